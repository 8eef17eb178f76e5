-- 006_create_assessment_drafts.sql
-- Auto-saved progress of the assessment flow.
-- Creates:
--   * table     : assessment_drafts (one draft per bilan, holding the unsaved form data)
--   * indexes, updated_at trigger, grants, row level security and policies
-- Re-runnable: every statement is guarded.

-- IF [NOT] EXISTS guards report skipped objects as NOTICEs: keep re-runs quiet
-- (reset at the end of the file).
SET client_min_messages = warning;

-- =============================================================================
-- Table
-- =============================================================================
CREATE TABLE IF NOT EXISTS public.assessment_drafts (
  id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  assessment_id       uuid        NOT NULL UNIQUE REFERENCES public.bilans (id) ON DELETE CASCADE,
  saved_by            uuid        REFERENCES public.users (id) ON DELETE SET NULL,
  current_step_number smallint    NOT NULL DEFAULT 0 CHECK (current_step_number BETWEEN 0 AND 10),
  draft_data          jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(draft_data) = 'object'),
  auto_save_enabled   boolean     NOT NULL DEFAULT true,
  version             integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
  last_saved_at       timestamptz NOT NULL DEFAULT now(),
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE public.assessment_drafts IS 'Auto-saved state of the assessment flow, one row per bilan.';
COMMENT ON COLUMN public.assessment_drafts.draft_data IS 'Form data keyed by step / question, as a JSON object.';
COMMENT ON COLUMN public.assessment_drafts.version IS 'Incremented by the client on each save, for optimistic concurrency checks.';

-- =============================================================================
-- Indexes (assessment_id is covered by its unique constraint)
-- =============================================================================
CREATE INDEX IF NOT EXISTS idx_assessment_drafts_saved_by ON public.assessment_drafts (saved_by);
CREATE INDEX IF NOT EXISTS idx_assessment_drafts_last_saved_at ON public.assessment_drafts (last_saved_at);

-- =============================================================================
-- Trigger
-- =============================================================================
DROP TRIGGER IF EXISTS trg_assessment_drafts_updated_at ON public.assessment_drafts;
CREATE TRIGGER trg_assessment_drafts_updated_at
  BEFORE UPDATE ON public.assessment_drafts
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- =============================================================================
-- Privileges and row level security
-- =============================================================================
GRANT SELECT, INSERT, UPDATE, DELETE ON public.assessment_drafts TO authenticated;
GRANT ALL ON public.assessment_drafts TO service_role;

ALTER TABLE public.assessment_drafts ENABLE ROW LEVEL SECURITY;

-- the beneficiary saves the draft, participants of the bilan can read it
DROP POLICY IF EXISTS assessment_drafts_select_participant ON public.assessment_drafts;
CREATE POLICY assessment_drafts_select_participant ON public.assessment_drafts
  FOR SELECT TO authenticated
  USING (public.can_access_bilan(assessment_id));

DROP POLICY IF EXISTS assessment_drafts_insert_participant ON public.assessment_drafts;
CREATE POLICY assessment_drafts_insert_participant ON public.assessment_drafts
  FOR INSERT TO authenticated
  WITH CHECK (public.can_access_bilan(assessment_id));

DROP POLICY IF EXISTS assessment_drafts_update_participant ON public.assessment_drafts;
CREATE POLICY assessment_drafts_update_participant ON public.assessment_drafts
  FOR UPDATE TO authenticated
  USING (public.can_access_bilan(assessment_id))
  WITH CHECK (public.can_access_bilan(assessment_id));

DROP POLICY IF EXISTS assessment_drafts_delete_participant ON public.assessment_drafts;
CREATE POLICY assessment_drafts_delete_participant ON public.assessment_drafts
  FOR DELETE TO authenticated
  USING (public.can_access_bilan(assessment_id));

RESET client_min_messages;
