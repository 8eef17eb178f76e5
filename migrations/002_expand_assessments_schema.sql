-- 002_expand_assessments_schema.sql
-- Extends the assessment records (public.bilans) with what the assessment flow needs.
-- Creates:
--   * columns   : bilans.assessment_type, status, current_step, progress_percentage,
--                 started_at, submitted_at, completed_at
--   * constraints on those columns (added once, guarded by name)
--   * function  : bilans_sync_status_timestamps() and its trigger on bilans
--   * indexes for the assessment lists (by beneficiary, consultant, organisation and status)
-- Re-runnable: ADD COLUMN IF NOT EXISTS, constraints checked in pg_constraint, guarded indexes/triggers.

-- IF [NOT] EXISTS guards report skipped objects as NOTICEs: keep re-runs quiet
-- (reset at the end of the file).
SET client_min_messages = warning;

-- =============================================================================
-- Columns
-- =============================================================================
ALTER TABLE public.bilans
  ADD COLUMN IF NOT EXISTS assessment_type     text        NOT NULL DEFAULT 'comprehensive',
  ADD COLUMN IF NOT EXISTS status              text        NOT NULL DEFAULT 'draft',
  ADD COLUMN IF NOT EXISTS current_step        smallint    NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS progress_percentage smallint    NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS started_at          timestamptz,
  ADD COLUMN IF NOT EXISTS submitted_at        timestamptz,
  ADD COLUMN IF NOT EXISTS completed_at        timestamptz;

COMMENT ON COLUMN public.bilans.assessment_type IS 'career | skills | comprehensive';
COMMENT ON COLUMN public.bilans.status IS 'Assessment flow state: draft, in_progress, submitted, under_review, completed, cancelled, archived.';
COMMENT ON COLUMN public.bilans.current_step IS 'Current step of the assessment flow (0 = not started, 1..3 = préliminaire, investigation, conclusion).';
COMMENT ON COLUMN public.bilans.progress_percentage IS 'Overall completion, 0 to 100.';
COMMENT ON COLUMN public.bilans.submitted_at IS 'When the beneficiary submitted the assessment for review.';

-- =============================================================================
-- Constraints (ADD CONSTRAINT has no IF NOT EXISTS: look them up by name)
-- =============================================================================
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint
                 WHERE conrelid = 'public.bilans'::regclass AND conname = 'bilans_assessment_type_check') THEN
    ALTER TABLE public.bilans ADD CONSTRAINT bilans_assessment_type_check
      CHECK (assessment_type IN ('career', 'skills', 'comprehensive'));
  END IF;

  IF NOT EXISTS (SELECT 1 FROM pg_constraint
                 WHERE conrelid = 'public.bilans'::regclass AND conname = 'bilans_status_check') THEN
    ALTER TABLE public.bilans ADD CONSTRAINT bilans_status_check
      CHECK (status IN ('draft', 'in_progress', 'submitted', 'under_review', 'completed', 'cancelled', 'archived'));
  END IF;

  IF NOT EXISTS (SELECT 1 FROM pg_constraint
                 WHERE conrelid = 'public.bilans'::regclass AND conname = 'bilans_current_step_check') THEN
    ALTER TABLE public.bilans ADD CONSTRAINT bilans_current_step_check
      CHECK (current_step BETWEEN 0 AND 10);
  END IF;

  IF NOT EXISTS (SELECT 1 FROM pg_constraint
                 WHERE conrelid = 'public.bilans'::regclass AND conname = 'bilans_progress_percentage_check') THEN
    ALTER TABLE public.bilans ADD CONSTRAINT bilans_progress_percentage_check
      CHECK (progress_percentage BETWEEN 0 AND 100);
  END IF;

  IF NOT EXISTS (SELECT 1 FROM pg_constraint
                 WHERE conrelid = 'public.bilans'::regclass AND conname = 'bilans_flow_dates_check') THEN
    ALTER TABLE public.bilans ADD CONSTRAINT bilans_flow_dates_check
      CHECK (    (submitted_at IS NULL OR started_at IS NULL OR submitted_at >= started_at)
             AND (completed_at IS NULL OR started_at IS NULL OR completed_at >= started_at));
  END IF;
END
$$;

-- =============================================================================
-- Status timestamps: stamp started_at / submitted_at / completed_at the first
-- time the matching status is reached (explicit values are kept), and set the
-- progress to 100 on completion.
-- =============================================================================
CREATE OR REPLACE FUNCTION public.bilans_sync_status_timestamps()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
    IF NEW.status IN ('in_progress', 'submitted', 'under_review', 'completed') THEN
      NEW.started_at := coalesce(NEW.started_at, now());
    END IF;
    IF NEW.status IN ('submitted', 'under_review', 'completed') THEN
      NEW.submitted_at := coalesce(NEW.submitted_at, now());
    END IF;
    IF NEW.status = 'completed' THEN
      NEW.completed_at := coalesce(NEW.completed_at, now());
      NEW.progress_percentage := 100;
    END IF;
  END IF;
  RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS trg_bilans_sync_status_timestamps ON public.bilans;
CREATE TRIGGER trg_bilans_sync_status_timestamps
  BEFORE INSERT OR UPDATE OF status ON public.bilans
  FOR EACH ROW EXECUTE FUNCTION public.bilans_sync_status_timestamps();

-- =============================================================================
-- Indexes for the assessment lists
-- =============================================================================
CREATE INDEX IF NOT EXISTS idx_bilans_status ON public.bilans (status);
CREATE INDEX IF NOT EXISTS idx_bilans_beneficiary_status ON public.bilans (beneficiary_id, status);
CREATE INDEX IF NOT EXISTS idx_bilans_consultant_status ON public.bilans (consultant_id, status);
CREATE INDEX IF NOT EXISTS idx_bilans_organization_status ON public.bilans (organization_id, status);
CREATE INDEX IF NOT EXISTS idx_bilans_completed_at ON public.bilans (completed_at) WHERE completed_at IS NOT NULL;

RESET client_min_messages;
