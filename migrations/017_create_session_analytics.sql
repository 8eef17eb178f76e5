-- 017_create_session_analytics.sql
-- Daily session statistics per consultant (dashboards and Qualiopi result indicators).
-- Creates:
--   * table     : session_analytics (one row per organisation, consultant and day, refreshed
--                 by the backend from session_bookings and satisfaction data)
--   * indexes, updated_at trigger, grants, row level security and policies
-- Re-runnable: every statement is guarded.

-- IF [NOT] EXISTS guards report skipped objects as NOTICEs: keep re-runs quiet
-- (reset at the end of the file).
SET client_min_messages = warning;

-- =============================================================================
-- Table
-- =============================================================================
CREATE TABLE IF NOT EXISTS public.session_analytics (
  id                     uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id        uuid         REFERENCES public.organizations (id) ON DELETE CASCADE,
  consultant_id          uuid         NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
  period_date            date         NOT NULL,
  sessions_scheduled     integer      NOT NULL DEFAULT 0 CHECK (sessions_scheduled >= 0),
  sessions_completed     integer      NOT NULL DEFAULT 0 CHECK (sessions_completed >= 0),
  sessions_cancelled     integer      NOT NULL DEFAULT 0 CHECK (sessions_cancelled >= 0),
  sessions_no_show       integer      NOT NULL DEFAULT 0 CHECK (sessions_no_show >= 0),
  total_duration_minutes integer      NOT NULL DEFAULT 0 CHECK (total_duration_minutes >= 0),
  unique_beneficiaries   integer      NOT NULL DEFAULT 0 CHECK (unique_beneficiaries >= 0),
  average_rating         numeric(3,2) CHECK (average_rating BETWEEN 1 AND 5),
  created_at             timestamptz  NOT NULL DEFAULT now(),
  updated_at             timestamptz  NOT NULL DEFAULT now(),
  -- one row per day and consultant, a NULL organisation (independent consultant) included
  CONSTRAINT session_analytics_org_consultant_day_key
    UNIQUE NULLS NOT DISTINCT (organization_id, consultant_id, period_date),
  CONSTRAINT session_analytics_outcomes_check
    CHECK (sessions_completed + sessions_cancelled + sessions_no_show <= sessions_scheduled)
);

COMMENT ON TABLE public.session_analytics IS 'Daily aggregates of bookings per consultant, maintained by the backend.';

-- =============================================================================
-- Indexes (organization_id is covered by the unique key)
-- =============================================================================
CREATE INDEX IF NOT EXISTS idx_session_analytics_consultant_date ON public.session_analytics (consultant_id, period_date);
CREATE INDEX IF NOT EXISTS idx_session_analytics_period_date ON public.session_analytics (period_date);

-- =============================================================================
-- Trigger
-- =============================================================================
DROP TRIGGER IF EXISTS trg_session_analytics_updated_at ON public.session_analytics;
CREATE TRIGGER trg_session_analytics_updated_at
  BEFORE UPDATE ON public.session_analytics
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- =============================================================================
-- Privileges and row level security
-- =============================================================================
GRANT SELECT, INSERT, UPDATE, DELETE ON public.session_analytics TO authenticated;
GRANT ALL ON public.session_analytics TO service_role;

ALTER TABLE public.session_analytics ENABLE ROW LEVEL SECURITY;

-- consultants read their own figures, org admins their organisation's
DROP POLICY IF EXISTS session_analytics_select_visible ON public.session_analytics;
CREATE POLICY session_analytics_select_visible ON public.session_analytics
  FOR SELECT TO authenticated
  USING (
    consultant_id = (SELECT auth.uid())
    OR public.is_org_admin_of(organization_id)
    OR public.is_admin()
  );

-- figures are computed by the backend (service_role), admins may correct them
DROP POLICY IF EXISTS session_analytics_all_admin ON public.session_analytics;
CREATE POLICY session_analytics_all_admin ON public.session_analytics
  FOR ALL TO authenticated
  USING (public.is_admin())
  WITH CHECK (public.is_admin());

RESET client_min_messages;
