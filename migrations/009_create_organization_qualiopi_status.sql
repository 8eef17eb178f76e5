-- 009_create_organization_qualiopi_status.sql
-- Compliance status of each organisation against each Qualiopi indicator.
-- Creates:
--   * table     : organization_qualiopi_status (one row per organisation and indicator)
--   * indexes, updated_at trigger, grants, row level security and policies
-- Re-runnable: every statement is guarded.

-- IF [NOT] EXISTS guards report skipped objects as NOTICEs: keep re-runs quiet
-- (reset at the end of the file).
SET client_min_messages = warning;

-- =============================================================================
-- Table
-- =============================================================================
CREATE TABLE IF NOT EXISTS public.organization_qualiopi_status (
  id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id     uuid        NOT NULL REFERENCES public.organizations (id) ON DELETE CASCADE,
  indicator_id        uuid        NOT NULL REFERENCES public.qualiopi_indicators (id) ON DELETE RESTRICT,
  status              text        NOT NULL DEFAULT 'not_started'
                                  CHECK (status IN ('not_started', 'in_progress', 'compliant', 'non_compliant', 'not_applicable')),
  nonconformity_level text        CHECK (nonconformity_level IN ('minor', 'major')),
  notes               text,
  responsible_user_id uuid        REFERENCES public.users (id) ON DELETE SET NULL,
  last_reviewed_at    timestamptz,
  last_reviewed_by    uuid        REFERENCES public.users (id) ON DELETE SET NULL,
  next_review_due     date,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT organization_qualiopi_status_org_indicator_key UNIQUE (organization_id, indicator_id),
  -- a non-conformity (mineure / majeure) only qualifies a non-compliant indicator
  CONSTRAINT organization_qualiopi_status_nonconformity_check
    CHECK (nonconformity_level IS NULL OR status = 'non_compliant')
);

COMMENT ON TABLE public.organization_qualiopi_status IS 'Self-assessed and audited compliance of an organisation, indicator by indicator.';
COMMENT ON COLUMN public.organization_qualiopi_status.nonconformity_level IS 'Non-conformité mineure or majeure found at audit.';

-- =============================================================================
-- Indexes (organization_id is covered by the unique key)
-- =============================================================================
CREATE INDEX IF NOT EXISTS idx_org_qualiopi_status_indicator_id ON public.organization_qualiopi_status (indicator_id);
CREATE INDEX IF NOT EXISTS idx_org_qualiopi_status_org_status ON public.organization_qualiopi_status (organization_id, status);
CREATE INDEX IF NOT EXISTS idx_org_qualiopi_status_responsible ON public.organization_qualiopi_status (responsible_user_id);
CREATE INDEX IF NOT EXISTS idx_org_qualiopi_status_reviewed_by ON public.organization_qualiopi_status (last_reviewed_by);
CREATE INDEX IF NOT EXISTS idx_org_qualiopi_status_next_review
  ON public.organization_qualiopi_status (next_review_due) WHERE next_review_due IS NOT NULL;

-- =============================================================================
-- Trigger
-- =============================================================================
DROP TRIGGER IF EXISTS trg_organization_qualiopi_status_updated_at ON public.organization_qualiopi_status;
CREATE TRIGGER trg_organization_qualiopi_status_updated_at
  BEFORE UPDATE ON public.organization_qualiopi_status
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- =============================================================================
-- Privileges and row level security
-- =============================================================================
GRANT SELECT, INSERT, UPDATE, DELETE ON public.organization_qualiopi_status TO authenticated;
GRANT ALL ON public.organization_qualiopi_status TO service_role;

ALTER TABLE public.organization_qualiopi_status ENABLE ROW LEVEL SECURITY;

-- consultants and org admins of the organisation follow its compliance
DROP POLICY IF EXISTS organization_qualiopi_status_select_staff ON public.organization_qualiopi_status;
CREATE POLICY organization_qualiopi_status_select_staff ON public.organization_qualiopi_status
  FOR SELECT TO authenticated
  USING (public.is_staff_of(organization_id) OR public.is_admin());

-- org admins maintain it, admins manage every organisation
DROP POLICY IF EXISTS organization_qualiopi_status_all_org_admin ON public.organization_qualiopi_status;
CREATE POLICY organization_qualiopi_status_all_org_admin ON public.organization_qualiopi_status
  FOR ALL TO authenticated
  USING (public.is_org_admin_of(organization_id) OR public.is_admin())
  WITH CHECK (public.is_org_admin_of(organization_id) OR public.is_admin());

RESET client_min_messages;
