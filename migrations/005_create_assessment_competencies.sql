-- 005_create_assessment_competencies.sql
-- Competencies identified and rated during a bilan.
-- Creates:
--   * table     : assessment_competencies (self-assessment by the beneficiary, validation by
--                 the consultant, optional link to the competencies catalogue)
--   * indexes, updated_at trigger, grants, row level security and policies
-- Re-runnable: every statement is guarded.

-- IF [NOT] EXISTS guards report skipped objects as NOTICEs: keep re-runs quiet
-- (reset at the end of the file).
SET client_min_messages = warning;

-- =============================================================================
-- Table
-- =============================================================================
CREATE TABLE IF NOT EXISTS public.assessment_competencies (
  id                          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  assessment_id               uuid        NOT NULL REFERENCES public.bilans (id) ON DELETE CASCADE,
  competency_id               uuid        REFERENCES public.competencies (id) ON DELETE SET NULL,
  skill_name                  text        NOT NULL CHECK (btrim(skill_name) <> ''),
  category                    text        NOT NULL DEFAULT 'technical'
                                          CHECK (category IN ('technical', 'soft', 'language', 'digital', 'management', 'other')),
  self_assessment_level       smallint    CHECK (self_assessment_level BETWEEN 1 AND 4),
  self_interest_level         smallint    CHECK (self_interest_level BETWEEN 1 AND 10),
  context                     text,
  consultant_assessment_level smallint    CHECK (consultant_assessment_level BETWEEN 1 AND 4),
  consultant_notes            text,
  validated_by                uuid        REFERENCES public.users (id) ON DELETE SET NULL,
  validated_at                timestamptz,
  created_at                  timestamptz NOT NULL DEFAULT now(),
  updated_at                  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT assessment_competencies_assessment_skill_key UNIQUE (assessment_id, skill_name),
  CONSTRAINT assessment_competencies_validation_check
    CHECK (validated_at IS NULL OR consultant_assessment_level IS NOT NULL)
);

COMMENT ON TABLE public.assessment_competencies IS 'Competencies of a bilan, rated by the beneficiary and validated by the consultant.';
COMMENT ON COLUMN public.assessment_competencies.self_assessment_level IS '1 débutant, 2 intermédiaire, 3 confirmé, 4 expert.';
COMMENT ON COLUMN public.assessment_competencies.self_interest_level IS 'Interest in using the competency, 1 to 10.';

-- =============================================================================
-- Indexes (assessment_id is covered by the unique key)
-- =============================================================================
CREATE INDEX IF NOT EXISTS idx_assessment_competencies_assessment_category
  ON public.assessment_competencies (assessment_id, category);
CREATE INDEX IF NOT EXISTS idx_assessment_competencies_competency_id
  ON public.assessment_competencies (competency_id);
CREATE INDEX IF NOT EXISTS idx_assessment_competencies_validated_by
  ON public.assessment_competencies (validated_by);
CREATE INDEX IF NOT EXISTS idx_assessment_competencies_skill_name
  ON public.assessment_competencies (lower(skill_name));

-- =============================================================================
-- Trigger
-- =============================================================================
DROP TRIGGER IF EXISTS trg_assessment_competencies_updated_at ON public.assessment_competencies;
CREATE TRIGGER trg_assessment_competencies_updated_at
  BEFORE UPDATE ON public.assessment_competencies
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- =============================================================================
-- Privileges and row level security
-- =============================================================================
GRANT SELECT, INSERT, UPDATE, DELETE ON public.assessment_competencies TO authenticated;
GRANT ALL ON public.assessment_competencies TO service_role;

ALTER TABLE public.assessment_competencies ENABLE ROW LEVEL SECURITY;

-- participants of the bilan read and rate competencies, managers also delete them
DROP POLICY IF EXISTS assessment_competencies_select_participant ON public.assessment_competencies;
CREATE POLICY assessment_competencies_select_participant ON public.assessment_competencies
  FOR SELECT TO authenticated
  USING (public.can_access_bilan(assessment_id));

DROP POLICY IF EXISTS assessment_competencies_insert_participant ON public.assessment_competencies;
CREATE POLICY assessment_competencies_insert_participant ON public.assessment_competencies
  FOR INSERT TO authenticated
  WITH CHECK (public.can_access_bilan(assessment_id));

DROP POLICY IF EXISTS assessment_competencies_update_participant ON public.assessment_competencies;
CREATE POLICY assessment_competencies_update_participant ON public.assessment_competencies
  FOR UPDATE TO authenticated
  USING (public.can_access_bilan(assessment_id))
  WITH CHECK (public.can_access_bilan(assessment_id));

DROP POLICY IF EXISTS assessment_competencies_delete_participant ON public.assessment_competencies;
CREATE POLICY assessment_competencies_delete_participant ON public.assessment_competencies
  FOR DELETE TO authenticated
  USING (public.can_access_bilan(assessment_id));

RESET client_min_messages;
