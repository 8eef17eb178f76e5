-- 016_create_session_reminders.sql
-- Reminders sent before (and after) booked sessions.
-- Creates:
--   * table     : session_reminders (one row per booking, recipient, channel and reminder type,
--                 processed by the backend's reminder dispatcher)
--   * indexes (including the dispatcher's queue of pending reminders), updated_at trigger,
--     grants, row level security and policies
-- Re-runnable: every statement is guarded.

-- IF [NOT] EXISTS guards report skipped objects as NOTICEs: keep re-runs quiet
-- (reset at the end of the file).
SET client_min_messages = warning;

-- =============================================================================
-- Table
-- =============================================================================
CREATE TABLE IF NOT EXISTS public.session_reminders (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  booking_id    uuid        NOT NULL REFERENCES public.session_bookings (id) ON DELETE CASCADE,
  recipient_id  uuid        NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
  reminder_type text        NOT NULL
                            CHECK (reminder_type IN ('booking_confirmation', 'day_before', 'hour_before', 'follow_up', 'custom')),
  channel       text        NOT NULL DEFAULT 'email' CHECK (channel IN ('email', 'sms', 'push', 'in_app')),
  scheduled_for timestamptz NOT NULL,
  status        text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
  attempts      smallint    NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  sent_at       timestamptz,
  last_error    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT session_reminders_booking_recipient_key UNIQUE (booking_id, recipient_id, reminder_type, channel),
  CONSTRAINT session_reminders_sent_check CHECK (status <> 'sent' OR sent_at IS NOT NULL)
);

COMMENT ON TABLE public.session_reminders IS 'Reminders of booked sessions, queued until sent by the backend.';

-- =============================================================================
-- Indexes (booking_id is covered by the unique key)
-- =============================================================================
-- the dispatcher's queue
CREATE INDEX IF NOT EXISTS idx_session_reminders_pending
  ON public.session_reminders (scheduled_for) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS idx_session_reminders_recipient_id ON public.session_reminders (recipient_id);
CREATE INDEX IF NOT EXISTS idx_session_reminders_status ON public.session_reminders (status);

-- =============================================================================
-- Trigger
-- =============================================================================
DROP TRIGGER IF EXISTS trg_session_reminders_updated_at ON public.session_reminders;
CREATE TRIGGER trg_session_reminders_updated_at
  BEFORE UPDATE ON public.session_reminders
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- =============================================================================
-- Privileges and row level security
-- =============================================================================
GRANT SELECT, INSERT, UPDATE, DELETE ON public.session_reminders TO authenticated;
GRANT ALL ON public.session_reminders TO service_role;

ALTER TABLE public.session_reminders ENABLE ROW LEVEL SECURITY;

-- recipients see their reminders, and parties of a booking see its reminders
-- (the sub-query goes through the row level security of session_bookings)
DROP POLICY IF EXISTS session_reminders_select_visible ON public.session_reminders;
CREATE POLICY session_reminders_select_visible ON public.session_reminders
  FOR SELECT TO authenticated
  USING (
    recipient_id = (SELECT auth.uid())
    OR EXISTS (SELECT 1 FROM public.session_bookings AS b WHERE b.id = booking_id)
  );

-- consultants of the booking, org admins and admins schedule or cancel reminders
DROP POLICY IF EXISTS session_reminders_all_manager ON public.session_reminders;
CREATE POLICY session_reminders_all_manager ON public.session_reminders
  FOR ALL TO authenticated
  USING (EXISTS (SELECT 1 FROM public.session_bookings AS b
                 WHERE b.id = booking_id
                   AND (b.consultant_id = (SELECT auth.uid())
                        OR public.is_org_admin_of(b.organization_id)
                        OR public.is_admin())))
  WITH CHECK (EXISTS (SELECT 1 FROM public.session_bookings AS b
                      WHERE b.id = booking_id
                        AND (b.consultant_id = (SELECT auth.uid())
                             OR public.is_org_admin_of(b.organization_id)
                             OR public.is_admin())));

RESET client_min_messages;
