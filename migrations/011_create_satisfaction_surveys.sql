-- 011_create_satisfaction_surveys.sql
-- Satisfaction surveys sent to beneficiaries (Qualiopi criterion 7: recueil des appréciations).
-- Creates:
--   * table     : satisfaction_surveys (one survey per bilan and survey type: at the end of the
--                 bilan, and the follow-up six months later)
--   * table     : survey_responses (one answer per survey question)
--   * indexes, updated_at triggers, grants, row level security and policies
-- Re-runnable: every statement is guarded.

-- IF [NOT] EXISTS guards report skipped objects as NOTICEs: keep re-runs quiet
-- (reset at the end of the file).
SET client_min_messages = warning;

-- =============================================================================
-- satisfaction_surveys
-- =============================================================================
CREATE TABLE IF NOT EXISTS public.satisfaction_surveys (
  id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  bilan_id        uuid        NOT NULL REFERENCES public.bilans (id) ON DELETE CASCADE,
  beneficiary_id  uuid        NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
  consultant_id   uuid        REFERENCES public.users (id) ON DELETE SET NULL,
  organization_id uuid        REFERENCES public.organizations (id) ON DELETE CASCADE,
  survey_type     text        NOT NULL DEFAULT 'end_of_bilan'
                              CHECK (survey_type IN ('end_of_bilan', 'six_month_follow_up')),
  status          text        NOT NULL DEFAULT 'pending'
                              CHECK (status IN ('pending', 'sent', 'in_progress', 'completed', 'expired')),
  access_token    text        UNIQUE,
  sent_at         timestamptz,
  completed_at    timestamptz,
  expires_at      timestamptz,
  overall_rating  smallint    CHECK (overall_rating BETWEEN 1 AND 5),
  nps_score       smallint    CHECK (nps_score BETWEEN 0 AND 10),
  comments        text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT satisfaction_surveys_bilan_type_key UNIQUE (bilan_id, survey_type),
  CONSTRAINT satisfaction_surveys_completed_check CHECK (status <> 'completed' OR completed_at IS NOT NULL)
);

COMMENT ON TABLE public.satisfaction_surveys IS 'Satisfaction surveys of a bilan: à chaud (end_of_bilan) and à froid (six_month_follow_up).';
COMMENT ON COLUMN public.satisfaction_surveys.access_token IS 'Opaque token of the link sent to the beneficiary.';
COMMENT ON COLUMN public.satisfaction_surveys.nps_score IS 'Likelihood to recommend, 0 to 10.';

-- (bilan_id is covered by the unique key, access_token by its unique constraint)
CREATE INDEX IF NOT EXISTS idx_satisfaction_surveys_beneficiary_id ON public.satisfaction_surveys (beneficiary_id);
CREATE INDEX IF NOT EXISTS idx_satisfaction_surveys_consultant_id ON public.satisfaction_surveys (consultant_id);
CREATE INDEX IF NOT EXISTS idx_satisfaction_surveys_org_status ON public.satisfaction_surveys (organization_id, status);
CREATE INDEX IF NOT EXISTS idx_satisfaction_surveys_completed_at
  ON public.satisfaction_surveys (organization_id, completed_at) WHERE completed_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_satisfaction_surveys_expires_at
  ON public.satisfaction_surveys (expires_at) WHERE status IN ('pending', 'sent', 'in_progress');

DROP TRIGGER IF EXISTS trg_satisfaction_surveys_updated_at ON public.satisfaction_surveys;
CREATE TRIGGER trg_satisfaction_surveys_updated_at
  BEFORE UPDATE ON public.satisfaction_surveys
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- =============================================================================
-- survey_responses
-- =============================================================================
CREATE TABLE IF NOT EXISTS public.survey_responses (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  survey_id     uuid        NOT NULL REFERENCES public.satisfaction_surveys (id) ON DELETE CASCADE,
  question_code text        NOT NULL CHECK (btrim(question_code) <> ''),
  question_text text,
  answer_type   text        NOT NULL CHECK (answer_type IN ('score', 'text', 'boolean', 'choice')),
  score_value   smallint    CHECK (score_value BETWEEN 0 AND 10),
  text_value    text,
  boolean_value boolean,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT survey_responses_survey_question_key UNIQUE (survey_id, question_code),
  -- the value column matching the answer type is filled
  CONSTRAINT survey_responses_value_check CHECK (
       (answer_type = 'score'   AND score_value IS NOT NULL)
    OR (answer_type = 'boolean' AND boolean_value IS NOT NULL)
    OR (answer_type IN ('text', 'choice') AND text_value IS NOT NULL))
);

COMMENT ON TABLE public.survey_responses IS 'Answers to the questions of a satisfaction survey.';

-- (survey_id is covered by the unique key)
CREATE INDEX IF NOT EXISTS idx_survey_responses_question_code ON public.survey_responses (question_code);

DROP TRIGGER IF EXISTS trg_survey_responses_updated_at ON public.survey_responses;
CREATE TRIGGER trg_survey_responses_updated_at
  BEFORE UPDATE ON public.survey_responses
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- =============================================================================
-- Privileges and row level security
-- =============================================================================
GRANT SELECT, INSERT, UPDATE, DELETE ON public.satisfaction_surveys, public.survey_responses TO authenticated;
GRANT ALL ON public.satisfaction_surveys, public.survey_responses TO service_role;

ALTER TABLE public.satisfaction_surveys ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.survey_responses     ENABLE ROW LEVEL SECURITY;

-- surveys: participants of the bilan and org admins read, the beneficiary fills in, managers create
DROP POLICY IF EXISTS satisfaction_surveys_select_participant ON public.satisfaction_surveys;
CREATE POLICY satisfaction_surveys_select_participant ON public.satisfaction_surveys
  FOR SELECT TO authenticated
  USING (
    beneficiary_id = (SELECT auth.uid())
    OR public.can_access_bilan(bilan_id)
    OR public.is_org_admin_of(organization_id)
  );

DROP POLICY IF EXISTS satisfaction_surveys_update_beneficiary ON public.satisfaction_surveys;
CREATE POLICY satisfaction_surveys_update_beneficiary ON public.satisfaction_surveys
  FOR UPDATE TO authenticated
  USING (beneficiary_id = (SELECT auth.uid()) AND status IN ('sent', 'in_progress'))
  WITH CHECK (beneficiary_id = (SELECT auth.uid()));

DROP POLICY IF EXISTS satisfaction_surveys_all_manager ON public.satisfaction_surveys;
CREATE POLICY satisfaction_surveys_all_manager ON public.satisfaction_surveys
  FOR ALL TO authenticated
  USING (public.can_manage_bilan(bilan_id))
  WITH CHECK (public.can_manage_bilan(bilan_id));

-- responses: visible with their survey, written by the beneficiary while the survey is open
DROP POLICY IF EXISTS survey_responses_select_visible ON public.survey_responses;
CREATE POLICY survey_responses_select_visible ON public.survey_responses
  FOR SELECT TO authenticated
  USING (EXISTS (SELECT 1 FROM public.satisfaction_surveys AS s WHERE s.id = survey_id));

DROP POLICY IF EXISTS survey_responses_write_beneficiary ON public.survey_responses;
CREATE POLICY survey_responses_write_beneficiary ON public.survey_responses
  FOR ALL TO authenticated
  USING (EXISTS (SELECT 1 FROM public.satisfaction_surveys AS s
                 WHERE s.id = survey_id
                   AND s.beneficiary_id = (SELECT auth.uid())
                   AND s.status IN ('sent', 'in_progress')))
  WITH CHECK (EXISTS (SELECT 1 FROM public.satisfaction_surveys AS s
                      WHERE s.id = survey_id
                        AND s.beneficiary_id = (SELECT auth.uid())
                        AND s.status IN ('sent', 'in_progress')));

DROP POLICY IF EXISTS survey_responses_all_admin ON public.survey_responses;
CREATE POLICY survey_responses_all_admin ON public.survey_responses
  FOR ALL TO authenticated
  USING (public.is_admin())
  WITH CHECK (public.is_admin());

RESET client_min_messages;
