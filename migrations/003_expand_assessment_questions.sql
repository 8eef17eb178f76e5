-- 003_expand_assessment_questions.sql
-- Questions of the assessment flow.
-- Creates:
--   * table     : assessment_questions (assessment_id NULL = template question shared by all
--                 bilans, otherwise a question specific to one bilan)
--   * indexes, updated_at trigger, grants, row level security and policies
-- Template questions are identified by their unique code (seeded by 007).
-- Re-runnable: every statement is guarded.

-- IF [NOT] EXISTS guards report skipped objects as NOTICEs: keep re-runs quiet
-- (reset at the end of the file).
SET client_min_messages = warning;

-- =============================================================================
-- Table
-- =============================================================================
CREATE TABLE IF NOT EXISTS public.assessment_questions (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  assessment_id uuid        REFERENCES public.bilans (id) ON DELETE CASCADE,
  code          text        CHECK (code ~ '^[A-Z][A-Z0-9_]*$'),
  phase         text        NOT NULL
                            CHECK (phase IN ('preliminary', 'investigation', 'conclusion')),
  step_number   smallint    NOT NULL CHECK (step_number BETWEEN 1 AND 10),
  section       text        NOT NULL DEFAULT 'general',
  question_text text        NOT NULL CHECK (btrim(question_text) <> ''),
  question_type text        NOT NULL DEFAULT 'textarea'
                            CHECK (question_type IN ('text', 'textarea', 'single_choice', 'multiple_choice',
                                                     'rating', 'boolean', 'date', 'number')),
  options       jsonb,
  display_order smallint    NOT NULL DEFAULT 0 CHECK (display_order >= 0),
  is_required   boolean     NOT NULL DEFAULT true,
  help_text     text,
  placeholder   text,
  is_active     boolean     NOT NULL DEFAULT true,
  created_by    uuid        REFERENCES public.users (id) ON DELETE SET NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  -- a template question must carry a code (its natural key)
  CONSTRAINT assessment_questions_template_code_check
    CHECK (assessment_id IS NOT NULL OR code IS NOT NULL),
  -- choice questions list their choices as a JSON array
  CONSTRAINT assessment_questions_choice_options_check
    CHECK (question_type NOT IN ('single_choice', 'multiple_choice') OR jsonb_typeof(options) = 'array'),
  -- rating questions describe their scale as a JSON object, e.g. {"min": 1, "max": 5}
  CONSTRAINT assessment_questions_rating_options_check
    CHECK (question_type <> 'rating' OR jsonb_typeof(options) = 'object')
);

COMMENT ON TABLE public.assessment_questions IS
  'Assessment questions. assessment_id IS NULL marks a template question used by every bilan.';
COMMENT ON COLUMN public.assessment_questions.code IS 'Stable identifier, required and unique for template questions (e.g. PRE_01).';
COMMENT ON COLUMN public.assessment_questions.step_number IS 'Step of the assessment flow: 1 préliminaire, 2 investigation, 3 conclusion.';
COMMENT ON COLUMN public.assessment_questions.options IS 'Choices (JSON array) for choice questions, scale (JSON object) for rating questions.';

-- =============================================================================
-- Indexes
-- =============================================================================
-- natural key of template questions (target of the seed's ON CONFLICT)
CREATE UNIQUE INDEX IF NOT EXISTS assessment_questions_template_code_key
  ON public.assessment_questions (code) WHERE assessment_id IS NULL;
-- a code is unique within one bilan as well
CREATE UNIQUE INDEX IF NOT EXISTS assessment_questions_assessment_code_key
  ON public.assessment_questions (assessment_id, code) WHERE assessment_id IS NOT NULL AND code IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_assessment_questions_assessment_step
  ON public.assessment_questions (assessment_id, step_number, display_order);
CREATE INDEX IF NOT EXISTS idx_assessment_questions_template_step
  ON public.assessment_questions (step_number, display_order) WHERE assessment_id IS NULL AND is_active;
CREATE INDEX IF NOT EXISTS idx_assessment_questions_phase ON public.assessment_questions (phase);
CREATE INDEX IF NOT EXISTS idx_assessment_questions_section ON public.assessment_questions (section);
CREATE INDEX IF NOT EXISTS idx_assessment_questions_created_by ON public.assessment_questions (created_by);

-- =============================================================================
-- Trigger
-- =============================================================================
DROP TRIGGER IF EXISTS trg_assessment_questions_updated_at ON public.assessment_questions;
CREATE TRIGGER trg_assessment_questions_updated_at
  BEFORE UPDATE ON public.assessment_questions
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- =============================================================================
-- Privileges and row level security
-- =============================================================================
GRANT SELECT, INSERT, UPDATE, DELETE ON public.assessment_questions TO authenticated;
GRANT ALL ON public.assessment_questions TO service_role;

ALTER TABLE public.assessment_questions ENABLE ROW LEVEL SECURITY;

-- templates are readable by every signed-in user, bilan questions by the bilan's participants
DROP POLICY IF EXISTS assessment_questions_select ON public.assessment_questions;
CREATE POLICY assessment_questions_select ON public.assessment_questions
  FOR SELECT TO authenticated
  USING (assessment_id IS NULL OR public.can_access_bilan(assessment_id));

-- consultants / org admins manage the questions of their bilans
DROP POLICY IF EXISTS assessment_questions_all_manager ON public.assessment_questions;
CREATE POLICY assessment_questions_all_manager ON public.assessment_questions
  FOR ALL TO authenticated
  USING (assessment_id IS NOT NULL AND public.can_manage_bilan(assessment_id))
  WITH CHECK (assessment_id IS NOT NULL AND public.can_manage_bilan(assessment_id));

-- admins manage everything, templates included
DROP POLICY IF EXISTS assessment_questions_all_admin ON public.assessment_questions;
CREATE POLICY assessment_questions_all_admin ON public.assessment_questions
  FOR ALL TO authenticated
  USING (public.is_admin())
  WITH CHECK (public.is_admin());

RESET client_min_messages;
