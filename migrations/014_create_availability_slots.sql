-- 014_create_availability_slots.sql
-- Consultant availability used to book bilan sessions.
-- Creates:
--   * table     : availability_slots (weekly recurring or one-off time ranges, in a time zone)
--   * indexes, updated_at trigger, grants, row level security and policies
-- Re-runnable: every statement is guarded.

-- IF [NOT] EXISTS guards report skipped objects as NOTICEs: keep re-runs quiet
-- (reset at the end of the file).
SET client_min_messages = warning;

-- =============================================================================
-- Table
-- =============================================================================
CREATE TABLE IF NOT EXISTS public.availability_slots (
  id                    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  consultant_id         uuid        NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
  organization_id       uuid        REFERENCES public.organizations (id) ON DELETE CASCADE,
  recurrence            text        NOT NULL DEFAULT 'weekly' CHECK (recurrence IN ('weekly', 'one_off')),
  day_of_week           smallint    CHECK (day_of_week BETWEEN 1 AND 7),
  specific_date         date,
  start_time            time        NOT NULL,
  end_time              time        NOT NULL,
  timezone              text        NOT NULL DEFAULT 'Europe/Paris',
  slot_duration_minutes smallint    NOT NULL DEFAULT 60 CHECK (slot_duration_minutes BETWEEN 15 AND 480),
  max_bookings          smallint    NOT NULL DEFAULT 1 CHECK (max_bookings >= 1),
  meeting_format        text        NOT NULL DEFAULT 'any' CHECK (meeting_format IN ('any', 'in_person', 'video', 'phone')),
  is_available          boolean     NOT NULL DEFAULT true,
  valid_from            date,
  valid_until           date,
  notes                 text,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT availability_slots_time_range_check CHECK (end_time > start_time),
  -- a weekly slot has a day of the week, a one-off slot a date
  CONSTRAINT availability_slots_recurrence_fields_check CHECK (
       (recurrence = 'weekly'  AND day_of_week IS NOT NULL AND specific_date IS NULL)
    OR (recurrence = 'one_off' AND specific_date IS NOT NULL AND day_of_week IS NULL)),
  CONSTRAINT availability_slots_validity_check
    CHECK (valid_until IS NULL OR valid_from IS NULL OR valid_until >= valid_from)
);

COMMENT ON TABLE public.availability_slots IS 'Time ranges in which a consultant can be booked.';
COMMENT ON COLUMN public.availability_slots.day_of_week IS 'ISO day of the week, 1 = lundi .. 7 = dimanche (weekly slots).';
COMMENT ON COLUMN public.availability_slots.timezone IS 'IANA time zone of start_time / end_time.';

-- =============================================================================
-- Indexes
-- =============================================================================
CREATE INDEX IF NOT EXISTS idx_availability_slots_consultant_weekly
  ON public.availability_slots (consultant_id, day_of_week, start_time) WHERE recurrence = 'weekly';
CREATE INDEX IF NOT EXISTS idx_availability_slots_consultant_date
  ON public.availability_slots (consultant_id, specific_date, start_time) WHERE recurrence = 'one_off';
CREATE INDEX IF NOT EXISTS idx_availability_slots_organization_id
  ON public.availability_slots (organization_id) WHERE is_available;
CREATE INDEX IF NOT EXISTS idx_availability_slots_specific_date
  ON public.availability_slots (specific_date) WHERE specific_date IS NOT NULL AND is_available;

-- =============================================================================
-- Trigger
-- =============================================================================
DROP TRIGGER IF EXISTS trg_availability_slots_updated_at ON public.availability_slots;
CREATE TRIGGER trg_availability_slots_updated_at
  BEFORE UPDATE ON public.availability_slots
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- =============================================================================
-- Privileges and row level security
-- =============================================================================
GRANT SELECT, INSERT, UPDATE, DELETE ON public.availability_slots TO authenticated;
GRANT ALL ON public.availability_slots TO service_role;

ALTER TABLE public.availability_slots ENABLE ROW LEVEL SECURITY;

-- open slots are visible to members of the organisation and to the consultant's beneficiaries
DROP POLICY IF EXISTS availability_slots_select_visible ON public.availability_slots;
CREATE POLICY availability_slots_select_visible ON public.availability_slots
  FOR SELECT TO authenticated
  USING (
    consultant_id = (SELECT auth.uid())
    OR public.is_org_admin_of(organization_id)
    OR public.is_admin()
    OR (is_available
        AND (organization_id = public.current_user_organization_id()
             OR public.shares_bilan_with(consultant_id)))
  );

-- consultants manage their own slots, org admins those of their organisation
DROP POLICY IF EXISTS availability_slots_all_owner ON public.availability_slots;
CREATE POLICY availability_slots_all_owner ON public.availability_slots
  FOR ALL TO authenticated
  USING (
    consultant_id = (SELECT auth.uid())
    OR public.is_org_admin_of(organization_id)
    OR public.is_admin()
  )
  WITH CHECK (
    (consultant_id = (SELECT auth.uid())
     AND public.current_user_role() = 'consultant'
     AND organization_id IS NOT DISTINCT FROM public.current_user_organization_id())
    OR public.is_org_admin_of(organization_id)
    OR public.is_admin()
  );

RESET client_min_messages;
