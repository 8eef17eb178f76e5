-- 015_create_session_bookings.sql
-- Bookings of consultant time by beneficiaries (information meeting or bilan interviews).
-- Creates:
--   * table     : session_bookings
--   * function  : session_bookings_sync_status_timestamps() and its trigger
--   * indexes (including a guard against double-booking a consultant), updated_at trigger,
--     grants, row level security and policies
-- Re-runnable: every statement is guarded.

-- IF [NOT] EXISTS guards report skipped objects as NOTICEs: keep re-runs quiet
-- (reset at the end of the file).
SET client_min_messages = warning;

-- =============================================================================
-- Table
-- The consultant is RESTRICTed: a consultant with bookings is deactivated
-- rather than deleted, so that the booking history stays complete.
-- =============================================================================
CREATE TABLE IF NOT EXISTS public.session_bookings (
  id                   uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  bilan_id             uuid        REFERENCES public.bilans (id) ON DELETE CASCADE,
  beneficiary_id       uuid        NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
  consultant_id        uuid        NOT NULL REFERENCES public.users (id) ON DELETE RESTRICT,
  organization_id      uuid        REFERENCES public.organizations (id) ON DELETE CASCADE,
  availability_slot_id uuid        REFERENCES public.availability_slots (id) ON DELETE SET NULL,
  session_id           uuid        REFERENCES public.sessions (id) ON DELETE SET NULL,
  session_type         text        NOT NULL DEFAULT 'preliminary'
                                   CHECK (session_type IN ('information', 'preliminary', 'investigation', 'conclusion', 'follow_up')),
  meeting_format       text        NOT NULL DEFAULT 'video' CHECK (meeting_format IN ('in_person', 'video', 'phone')),
  starts_at            timestamptz NOT NULL,
  ends_at              timestamptz NOT NULL,
  timezone             text        NOT NULL DEFAULT 'Europe/Paris',
  location             text,
  meeting_url          text,
  status               text        NOT NULL DEFAULT 'requested'
                                   CHECK (status IN ('requested', 'confirmed', 'completed', 'cancelled', 'no_show')),
  confirmed_at         timestamptz,
  cancelled_at         timestamptz,
  cancelled_by         uuid        REFERENCES public.users (id) ON DELETE SET NULL,
  cancellation_reason  text,
  beneficiary_notes    text,
  consultant_notes     text,
  created_by           uuid        REFERENCES public.users (id) ON DELETE SET NULL,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT session_bookings_time_range_check
    CHECK (ends_at > starts_at AND ends_at <= starts_at + interval '8 hours'),
  CONSTRAINT session_bookings_distinct_people_check CHECK (beneficiary_id <> consultant_id),
  CONSTRAINT session_bookings_cancelled_check CHECK (status <> 'cancelled' OR cancelled_at IS NOT NULL)
);

COMMENT ON TABLE public.session_bookings IS
  'Appointments booked with a consultant. bilan_id is NULL for the information meeting held before a bilan starts.';
COMMENT ON COLUMN public.session_bookings.session_id IS 'The interview (sessions row) recorded once the booking took place.';

-- =============================================================================
-- Indexes
-- =============================================================================
-- a consultant cannot hold two active bookings starting at the same time
CREATE UNIQUE INDEX IF NOT EXISTS session_bookings_consultant_active_start_key
  ON public.session_bookings (consultant_id, starts_at) WHERE status IN ('requested', 'confirmed');
CREATE INDEX IF NOT EXISTS idx_session_bookings_consultant_starts ON public.session_bookings (consultant_id, starts_at);
CREATE INDEX IF NOT EXISTS idx_session_bookings_beneficiary_starts ON public.session_bookings (beneficiary_id, starts_at);
CREATE INDEX IF NOT EXISTS idx_session_bookings_bilan_id ON public.session_bookings (bilan_id);
CREATE INDEX IF NOT EXISTS idx_session_bookings_org_starts ON public.session_bookings (organization_id, starts_at);
CREATE INDEX IF NOT EXISTS idx_session_bookings_availability_slot_id ON public.session_bookings (availability_slot_id);
CREATE INDEX IF NOT EXISTS idx_session_bookings_session_id ON public.session_bookings (session_id);
CREATE INDEX IF NOT EXISTS idx_session_bookings_status_starts ON public.session_bookings (status, starts_at);
CREATE INDEX IF NOT EXISTS idx_session_bookings_cancelled_by ON public.session_bookings (cancelled_by);
CREATE INDEX IF NOT EXISTS idx_session_bookings_created_by ON public.session_bookings (created_by);

-- =============================================================================
-- Triggers
-- =============================================================================
-- stamp confirmed_at / cancelled_at (and who cancelled) when the status changes
CREATE OR REPLACE FUNCTION public.session_bookings_sync_status_timestamps()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
    IF NEW.status = 'confirmed' THEN
      NEW.confirmed_at := coalesce(NEW.confirmed_at, now());
    ELSIF NEW.status = 'cancelled' THEN
      NEW.cancelled_at := coalesce(NEW.cancelled_at, now());
      IF NEW.cancelled_by IS NULL THEN
        SELECT u.id INTO NEW.cancelled_by FROM public.users AS u WHERE u.id = auth.uid();
      END IF;
    END IF;
  END IF;
  RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS trg_session_bookings_sync_status_timestamps ON public.session_bookings;
CREATE TRIGGER trg_session_bookings_sync_status_timestamps
  BEFORE INSERT OR UPDATE OF status ON public.session_bookings
  FOR EACH ROW EXECUTE FUNCTION public.session_bookings_sync_status_timestamps();

DROP TRIGGER IF EXISTS trg_session_bookings_updated_at ON public.session_bookings;
CREATE TRIGGER trg_session_bookings_updated_at
  BEFORE UPDATE ON public.session_bookings
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- =============================================================================
-- Privileges and row level security
-- =============================================================================
GRANT SELECT, INSERT, UPDATE, DELETE ON public.session_bookings TO authenticated;
GRANT ALL ON public.session_bookings TO service_role;

ALTER TABLE public.session_bookings ENABLE ROW LEVEL SECURITY;

-- the two parties, org admins of the organisation and admins see a booking
DROP POLICY IF EXISTS session_bookings_select_party ON public.session_bookings;
CREATE POLICY session_bookings_select_party ON public.session_bookings
  FOR SELECT TO authenticated
  USING (
    beneficiary_id = (SELECT auth.uid())
    OR consultant_id = (SELECT auth.uid())
    OR public.is_org_admin_of(organization_id)
    OR public.is_admin()
  );

-- a beneficiary books for themself (within their own bilan), a consultant in their own agenda
DROP POLICY IF EXISTS session_bookings_insert_party ON public.session_bookings;
CREATE POLICY session_bookings_insert_party ON public.session_bookings
  FOR INSERT TO authenticated
  WITH CHECK (
    (beneficiary_id = (SELECT auth.uid()) AND (bilan_id IS NULL OR public.can_access_bilan(bilan_id)))
    OR consultant_id = (SELECT auth.uid())
    OR public.is_org_admin_of(organization_id)
    OR public.is_admin()
  );

-- both parties can confirm, reschedule or cancel
DROP POLICY IF EXISTS session_bookings_update_party ON public.session_bookings;
CREATE POLICY session_bookings_update_party ON public.session_bookings
  FOR UPDATE TO authenticated
  USING (
    beneficiary_id = (SELECT auth.uid())
    OR consultant_id = (SELECT auth.uid())
    OR public.is_org_admin_of(organization_id)
    OR public.is_admin()
  )
  WITH CHECK (
    beneficiary_id = (SELECT auth.uid())
    OR consultant_id = (SELECT auth.uid())
    OR public.is_org_admin_of(organization_id)
    OR public.is_admin()
  );

-- bookings are cancelled, not deleted: only administrators delete them
DROP POLICY IF EXISTS session_bookings_delete_admin ON public.session_bookings;
CREATE POLICY session_bookings_delete_admin ON public.session_bookings
  FOR DELETE TO authenticated
  USING (public.is_org_admin_of(organization_id) OR public.is_admin());

RESET client_min_messages;
