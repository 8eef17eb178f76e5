-- 004_expand_assessment_answers.sql
-- Answers given during the assessment flow.
-- Creates:
--   * table     : assessment_answers (one answer per bilan and question)
--   * function  : assessment_answers_check_question() and its trigger (the question must be a
--                 template or belong to the same bilan)
--   * indexes, updated_at trigger, grants, row level security and policies
-- Re-runnable: every statement is guarded.

-- IF [NOT] EXISTS guards report skipped objects as NOTICEs: keep re-runs quiet
-- (reset at the end of the file).
SET client_min_messages = warning;

-- =============================================================================
-- Table
-- question_id uses the default NO ACTION rule (checked at the end of the
-- statement): deleting a bilan removes its questions and answers together,
-- while deleting a question that still has answers is refused.
-- =============================================================================
CREATE TABLE IF NOT EXISTS public.assessment_answers (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  assessment_id uuid        NOT NULL REFERENCES public.bilans (id) ON DELETE CASCADE,
  question_id   uuid        NOT NULL REFERENCES public.assessment_questions (id) ON DELETE NO ACTION,
  answered_by   uuid        REFERENCES public.users (id) ON DELETE SET NULL,
  step_number   smallint    CHECK (step_number BETWEEN 1 AND 10),
  section       text,
  answer_value  jsonb       NOT NULL CHECK (jsonb_typeof(answer_value) <> 'null'),
  submitted_at  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT assessment_answers_assessment_question_key UNIQUE (assessment_id, question_id)
);

COMMENT ON TABLE public.assessment_answers IS 'Answers of a bilan to template or bilan-specific questions (one row per question).';
COMMENT ON COLUMN public.assessment_answers.answer_value IS 'The answer as JSON: a string, number, boolean, array of choices or object.';
COMMENT ON COLUMN public.assessment_answers.submitted_at IS 'NULL while the answer is only saved as part of a draft.';

-- =============================================================================
-- Indexes (assessment_id is covered by the unique key)
-- =============================================================================
CREATE INDEX IF NOT EXISTS idx_assessment_answers_question_id ON public.assessment_answers (question_id);
CREATE INDEX IF NOT EXISTS idx_assessment_answers_answered_by ON public.assessment_answers (answered_by);
CREATE INDEX IF NOT EXISTS idx_assessment_answers_assessment_step
  ON public.assessment_answers (assessment_id, step_number);
CREATE INDEX IF NOT EXISTS idx_assessment_answers_section ON public.assessment_answers (section);

-- =============================================================================
-- Triggers
-- =============================================================================
CREATE OR REPLACE FUNCTION public.assessment_answers_check_question()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  IF NOT EXISTS (
    SELECT 1
    FROM public.assessment_questions AS q
    WHERE q.id = NEW.question_id
      AND (q.assessment_id IS NULL OR q.assessment_id = NEW.assessment_id)
  ) THEN
    RAISE EXCEPTION 'question % is neither a template question nor a question of bilan %',
      NEW.question_id, NEW.assessment_id
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS trg_assessment_answers_check_question ON public.assessment_answers;
CREATE TRIGGER trg_assessment_answers_check_question
  BEFORE INSERT OR UPDATE OF assessment_id, question_id ON public.assessment_answers
  FOR EACH ROW EXECUTE FUNCTION public.assessment_answers_check_question();

DROP TRIGGER IF EXISTS trg_assessment_answers_updated_at ON public.assessment_answers;
CREATE TRIGGER trg_assessment_answers_updated_at
  BEFORE UPDATE ON public.assessment_answers
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- =============================================================================
-- Privileges and row level security
-- =============================================================================
GRANT SELECT, INSERT, UPDATE, DELETE ON public.assessment_answers TO authenticated;
GRANT ALL ON public.assessment_answers TO service_role;

ALTER TABLE public.assessment_answers ENABLE ROW LEVEL SECURITY;

-- the beneficiary answers, the consultant / org admins / admins follow the bilan
DROP POLICY IF EXISTS assessment_answers_select_participant ON public.assessment_answers;
CREATE POLICY assessment_answers_select_participant ON public.assessment_answers
  FOR SELECT TO authenticated
  USING (public.can_access_bilan(assessment_id));

DROP POLICY IF EXISTS assessment_answers_insert_participant ON public.assessment_answers;
CREATE POLICY assessment_answers_insert_participant ON public.assessment_answers
  FOR INSERT TO authenticated
  WITH CHECK (public.can_access_bilan(assessment_id));

DROP POLICY IF EXISTS assessment_answers_update_participant ON public.assessment_answers;
CREATE POLICY assessment_answers_update_participant ON public.assessment_answers
  FOR UPDATE TO authenticated
  USING (public.can_access_bilan(assessment_id))
  WITH CHECK (public.can_access_bilan(assessment_id));

DROP POLICY IF EXISTS assessment_answers_delete_manager ON public.assessment_answers;
CREATE POLICY assessment_answers_delete_manager ON public.assessment_answers
  FOR DELETE TO authenticated
  USING (public.can_manage_bilan(assessment_id));

RESET client_min_messages;
