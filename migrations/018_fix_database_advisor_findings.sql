-- 018_fix_database_advisor_findings.sql
-- What the database advisors (and 'migration-wizard lint') report on 001..017, fixed forward:
--   * functions : the trigger functions get a fixed search_path (a caller's search_path can no
--                 longer change what their names resolve to)
--   * indexes   : availability_slots' foreign keys get full indexes (the partial ones of 014 cannot
--                 serve the ON DELETE CASCADE from users and organizations)
--   * policies  : one permissive policy per table, role and action. A table's policies FOR ALL are
--                 split per action and merged with that action's other policies, their conditions
--                 joined with OR: who may do what is unchanged, and each row is checked once.
-- Re-runnable: every statement is guarded.

-- IF [NOT] EXISTS guards report skipped objects as NOTICEs: keep re-runs quiet
-- (reset at the end of the file).
SET client_min_messages = warning;

-- =============================================================================
-- Functions: a fixed search_path
-- =============================================================================
ALTER FUNCTION public.set_updated_at() SET search_path = public, pg_temp;
ALTER FUNCTION public.users_guard_privileged_columns() SET search_path = public, pg_temp;
ALTER FUNCTION public.bilans_guard_assignment() SET search_path = public, pg_temp;
ALTER FUNCTION public.bilans_sync_status_timestamps() SET search_path = public, pg_temp;
ALTER FUNCTION public.assessment_answers_check_question() SET search_path = public, pg_temp;
ALTER FUNCTION public.session_bookings_sync_status_timestamps() SET search_path = public, pg_temp;

-- =============================================================================
-- Indexes: every foreign key of availability_slots covered
-- =============================================================================
CREATE INDEX IF NOT EXISTS idx_availability_slots_consultant_id
  ON public.availability_slots (consultant_id);
CREATE INDEX IF NOT EXISTS idx_availability_slots_organization
  ON public.availability_slots (organization_id);

-- =============================================================================
-- Policies: one permissive policy per table, role and action
-- =============================================================================
-- public.assessment_questions
--   SELECT to authenticated: assessment_questions_all_admin, assessment_questions_all_manager, assessment_questions_select
--   INSERT to authenticated: assessment_questions_all_admin, assessment_questions_all_manager
--   UPDATE to authenticated: assessment_questions_all_admin, assessment_questions_all_manager
--   DELETE to authenticated: assessment_questions_all_admin, assessment_questions_all_manager
DROP POLICY IF EXISTS assessment_questions_all_admin ON public.assessment_questions;
DROP POLICY IF EXISTS assessment_questions_all_manager ON public.assessment_questions;
DROP POLICY IF EXISTS assessment_questions_delete ON public.assessment_questions;
DROP POLICY IF EXISTS assessment_questions_insert ON public.assessment_questions;
DROP POLICY IF EXISTS assessment_questions_select ON public.assessment_questions;
DROP POLICY IF EXISTS assessment_questions_update ON public.assessment_questions;
CREATE POLICY assessment_questions_select ON public.assessment_questions
  FOR SELECT TO authenticated
  USING (
    (public.is_admin())
    OR (((assessment_id IS NOT NULL) AND public.can_manage_bilan(assessment_id)))
    OR (((assessment_id IS NULL) OR public.can_access_bilan(assessment_id)))
  );
CREATE POLICY assessment_questions_insert ON public.assessment_questions
  FOR INSERT TO authenticated
  WITH CHECK (
    (public.is_admin())
    OR (((assessment_id IS NOT NULL) AND public.can_manage_bilan(assessment_id)))
  );
CREATE POLICY assessment_questions_update ON public.assessment_questions
  FOR UPDATE TO authenticated
  USING (
    (public.is_admin())
    OR (((assessment_id IS NOT NULL) AND public.can_manage_bilan(assessment_id)))
  )
  WITH CHECK (
    (public.is_admin())
    OR (((assessment_id IS NOT NULL) AND public.can_manage_bilan(assessment_id)))
  );
CREATE POLICY assessment_questions_delete ON public.assessment_questions
  FOR DELETE TO authenticated
  USING (
    (public.is_admin())
    OR (((assessment_id IS NOT NULL) AND public.can_manage_bilan(assessment_id)))
  );

-- public.availability_slots
--   SELECT to authenticated: availability_slots_all_owner, availability_slots_select_visible
--   INSERT to authenticated: availability_slots_all_owner
--   UPDATE to authenticated: availability_slots_all_owner
--   DELETE to authenticated: availability_slots_all_owner
DROP POLICY IF EXISTS availability_slots_all_owner ON public.availability_slots;
DROP POLICY IF EXISTS availability_slots_delete ON public.availability_slots;
DROP POLICY IF EXISTS availability_slots_insert ON public.availability_slots;
DROP POLICY IF EXISTS availability_slots_select ON public.availability_slots;
DROP POLICY IF EXISTS availability_slots_select_visible ON public.availability_slots;
DROP POLICY IF EXISTS availability_slots_update ON public.availability_slots;
CREATE POLICY availability_slots_select ON public.availability_slots
  FOR SELECT TO authenticated
  USING (
    (((consultant_id = ( SELECT auth.uid() AS uid)) OR public.is_org_admin_of(organization_id) OR public.is_admin()))
    OR (((consultant_id = ( SELECT auth.uid() AS uid)) OR public.is_org_admin_of(organization_id) OR public.is_admin() OR (is_available AND ((organization_id = public.current_user_organization_id()) OR public.shares_bilan_with(consultant_id)))))
  );
CREATE POLICY availability_slots_insert ON public.availability_slots
  FOR INSERT TO authenticated
  WITH CHECK (
    ((((consultant_id = ( SELECT auth.uid() AS uid)) AND (public.current_user_role() = 'consultant'::text) AND (NOT (organization_id IS DISTINCT FROM public.current_user_organization_id()))) OR public.is_org_admin_of(organization_id) OR public.is_admin()))
  );
CREATE POLICY availability_slots_update ON public.availability_slots
  FOR UPDATE TO authenticated
  USING (
    (((consultant_id = ( SELECT auth.uid() AS uid)) OR public.is_org_admin_of(organization_id) OR public.is_admin()))
  )
  WITH CHECK (
    ((((consultant_id = ( SELECT auth.uid() AS uid)) AND (public.current_user_role() = 'consultant'::text) AND (NOT (organization_id IS DISTINCT FROM public.current_user_organization_id()))) OR public.is_org_admin_of(organization_id) OR public.is_admin()))
  );
CREATE POLICY availability_slots_delete ON public.availability_slots
  FOR DELETE TO authenticated
  USING (
    (((consultant_id = ( SELECT auth.uid() AS uid)) OR public.is_org_admin_of(organization_id) OR public.is_admin()))
  );

-- public.competencies
--   INSERT to authenticated: competencies_all_admin
--   UPDATE to authenticated: competencies_all_admin
--   DELETE to authenticated: competencies_all_admin
DROP POLICY IF EXISTS competencies_all_admin ON public.competencies;
DROP POLICY IF EXISTS competencies_delete ON public.competencies;
DROP POLICY IF EXISTS competencies_insert ON public.competencies;
DROP POLICY IF EXISTS competencies_update ON public.competencies;
CREATE POLICY competencies_insert ON public.competencies
  FOR INSERT TO authenticated
  WITH CHECK (
    (public.is_admin())
  );
CREATE POLICY competencies_update ON public.competencies
  FOR UPDATE TO authenticated
  USING (
    (public.is_admin())
  )
  WITH CHECK (
    (public.is_admin())
  );
CREATE POLICY competencies_delete ON public.competencies
  FOR DELETE TO authenticated
  USING (
    (public.is_admin())
  );

-- public.organization_qualiopi_status
--   SELECT to authenticated: organization_qualiopi_status_all_org_admin, organization_qualiopi_status_select_staff
--   INSERT to authenticated: organization_qualiopi_status_all_org_admin
--   UPDATE to authenticated: organization_qualiopi_status_all_org_admin
--   DELETE to authenticated: organization_qualiopi_status_all_org_admin
DROP POLICY IF EXISTS organization_qualiopi_status_all_org_admin ON public.organization_qualiopi_status;
DROP POLICY IF EXISTS organization_qualiopi_status_delete ON public.organization_qualiopi_status;
DROP POLICY IF EXISTS organization_qualiopi_status_insert ON public.organization_qualiopi_status;
DROP POLICY IF EXISTS organization_qualiopi_status_select ON public.organization_qualiopi_status;
DROP POLICY IF EXISTS organization_qualiopi_status_select_staff ON public.organization_qualiopi_status;
DROP POLICY IF EXISTS organization_qualiopi_status_update ON public.organization_qualiopi_status;
CREATE POLICY organization_qualiopi_status_select ON public.organization_qualiopi_status
  FOR SELECT TO authenticated
  USING (
    ((public.is_org_admin_of(organization_id) OR public.is_admin()))
    OR ((public.is_staff_of(organization_id) OR public.is_admin()))
  );
CREATE POLICY organization_qualiopi_status_insert ON public.organization_qualiopi_status
  FOR INSERT TO authenticated
  WITH CHECK (
    ((public.is_org_admin_of(organization_id) OR public.is_admin()))
  );
CREATE POLICY organization_qualiopi_status_update ON public.organization_qualiopi_status
  FOR UPDATE TO authenticated
  USING (
    ((public.is_org_admin_of(organization_id) OR public.is_admin()))
  )
  WITH CHECK (
    ((public.is_org_admin_of(organization_id) OR public.is_admin()))
  );
CREATE POLICY organization_qualiopi_status_delete ON public.organization_qualiopi_status
  FOR DELETE TO authenticated
  USING (
    ((public.is_org_admin_of(organization_id) OR public.is_admin()))
  );

-- public.organizations
--   SELECT to authenticated: organizations_all_admin, organizations_select_member
--   INSERT to authenticated: organizations_all_admin
--   UPDATE to authenticated: organizations_all_admin, organizations_update_org_admin
--   DELETE to authenticated: organizations_all_admin
DROP POLICY IF EXISTS organizations_all_admin ON public.organizations;
DROP POLICY IF EXISTS organizations_delete ON public.organizations;
DROP POLICY IF EXISTS organizations_insert ON public.organizations;
DROP POLICY IF EXISTS organizations_select ON public.organizations;
DROP POLICY IF EXISTS organizations_select_member ON public.organizations;
DROP POLICY IF EXISTS organizations_update ON public.organizations;
DROP POLICY IF EXISTS organizations_update_org_admin ON public.organizations;
CREATE POLICY organizations_select ON public.organizations
  FOR SELECT TO authenticated
  USING (
    (public.is_admin())
    OR (((id = public.current_user_organization_id()) OR public.is_admin()))
  );
CREATE POLICY organizations_insert ON public.organizations
  FOR INSERT TO authenticated
  WITH CHECK (
    (public.is_admin())
  );
CREATE POLICY organizations_update ON public.organizations
  FOR UPDATE TO authenticated
  USING (
    (public.is_admin())
    OR (public.is_org_admin_of(id))
  )
  WITH CHECK (
    (public.is_admin())
    OR (public.is_org_admin_of(id))
  );
CREATE POLICY organizations_delete ON public.organizations
  FOR DELETE TO authenticated
  USING (
    (public.is_admin())
  );

-- public.qualiopi_indicators
--   INSERT to authenticated: qualiopi_indicators_all_admin
--   UPDATE to authenticated: qualiopi_indicators_all_admin
--   DELETE to authenticated: qualiopi_indicators_all_admin
DROP POLICY IF EXISTS qualiopi_indicators_all_admin ON public.qualiopi_indicators;
DROP POLICY IF EXISTS qualiopi_indicators_delete ON public.qualiopi_indicators;
DROP POLICY IF EXISTS qualiopi_indicators_insert ON public.qualiopi_indicators;
DROP POLICY IF EXISTS qualiopi_indicators_update ON public.qualiopi_indicators;
CREATE POLICY qualiopi_indicators_insert ON public.qualiopi_indicators
  FOR INSERT TO authenticated
  WITH CHECK (
    (public.is_admin())
  );
CREATE POLICY qualiopi_indicators_update ON public.qualiopi_indicators
  FOR UPDATE TO authenticated
  USING (
    (public.is_admin())
  )
  WITH CHECK (
    (public.is_admin())
  );
CREATE POLICY qualiopi_indicators_delete ON public.qualiopi_indicators
  FOR DELETE TO authenticated
  USING (
    (public.is_admin())
  );

-- public.recommendations
--   SELECT to authenticated: recommendations_all_manager, recommendations_select_participant
--   INSERT to authenticated: recommendations_all_manager
--   UPDATE to authenticated: recommendations_all_manager
--   DELETE to authenticated: recommendations_all_manager
DROP POLICY IF EXISTS recommendations_all_manager ON public.recommendations;
DROP POLICY IF EXISTS recommendations_delete ON public.recommendations;
DROP POLICY IF EXISTS recommendations_insert ON public.recommendations;
DROP POLICY IF EXISTS recommendations_select ON public.recommendations;
DROP POLICY IF EXISTS recommendations_select_participant ON public.recommendations;
DROP POLICY IF EXISTS recommendations_update ON public.recommendations;
CREATE POLICY recommendations_select ON public.recommendations
  FOR SELECT TO authenticated
  USING (
    (public.can_manage_bilan(bilan_id))
    OR (public.can_access_bilan(bilan_id))
  );
CREATE POLICY recommendations_insert ON public.recommendations
  FOR INSERT TO authenticated
  WITH CHECK (
    (public.can_manage_bilan(bilan_id))
  );
CREATE POLICY recommendations_update ON public.recommendations
  FOR UPDATE TO authenticated
  USING (
    (public.can_manage_bilan(bilan_id))
  )
  WITH CHECK (
    (public.can_manage_bilan(bilan_id))
  );
CREATE POLICY recommendations_delete ON public.recommendations
  FOR DELETE TO authenticated
  USING (
    (public.can_manage_bilan(bilan_id))
  );

-- public.satisfaction_surveys
--   SELECT to authenticated: satisfaction_surveys_all_manager, satisfaction_surveys_select_participant
--   INSERT to authenticated: satisfaction_surveys_all_manager
--   UPDATE to authenticated: satisfaction_surveys_all_manager, satisfaction_surveys_update_beneficiary
--   DELETE to authenticated: satisfaction_surveys_all_manager
DROP POLICY IF EXISTS satisfaction_surveys_all_manager ON public.satisfaction_surveys;
DROP POLICY IF EXISTS satisfaction_surveys_delete ON public.satisfaction_surveys;
DROP POLICY IF EXISTS satisfaction_surveys_insert ON public.satisfaction_surveys;
DROP POLICY IF EXISTS satisfaction_surveys_select ON public.satisfaction_surveys;
DROP POLICY IF EXISTS satisfaction_surveys_select_participant ON public.satisfaction_surveys;
DROP POLICY IF EXISTS satisfaction_surveys_update ON public.satisfaction_surveys;
DROP POLICY IF EXISTS satisfaction_surveys_update_beneficiary ON public.satisfaction_surveys;
CREATE POLICY satisfaction_surveys_select ON public.satisfaction_surveys
  FOR SELECT TO authenticated
  USING (
    (public.can_manage_bilan(bilan_id))
    OR (((beneficiary_id = ( SELECT auth.uid() AS uid)) OR public.can_access_bilan(bilan_id) OR public.is_org_admin_of(organization_id)))
  );
CREATE POLICY satisfaction_surveys_insert ON public.satisfaction_surveys
  FOR INSERT TO authenticated
  WITH CHECK (
    (public.can_manage_bilan(bilan_id))
  );
CREATE POLICY satisfaction_surveys_update ON public.satisfaction_surveys
  FOR UPDATE TO authenticated
  USING (
    (public.can_manage_bilan(bilan_id))
    OR (((beneficiary_id = ( SELECT auth.uid() AS uid)) AND (status = ANY (ARRAY['sent'::text, 'in_progress'::text]))))
  )
  WITH CHECK (
    (public.can_manage_bilan(bilan_id))
    OR ((beneficiary_id = ( SELECT auth.uid() AS uid)))
  );
CREATE POLICY satisfaction_surveys_delete ON public.satisfaction_surveys
  FOR DELETE TO authenticated
  USING (
    (public.can_manage_bilan(bilan_id))
  );

-- public.session_analytics
--   SELECT to authenticated: session_analytics_all_admin, session_analytics_select_visible
--   INSERT to authenticated: session_analytics_all_admin
--   UPDATE to authenticated: session_analytics_all_admin
--   DELETE to authenticated: session_analytics_all_admin
DROP POLICY IF EXISTS session_analytics_all_admin ON public.session_analytics;
DROP POLICY IF EXISTS session_analytics_delete ON public.session_analytics;
DROP POLICY IF EXISTS session_analytics_insert ON public.session_analytics;
DROP POLICY IF EXISTS session_analytics_select ON public.session_analytics;
DROP POLICY IF EXISTS session_analytics_select_visible ON public.session_analytics;
DROP POLICY IF EXISTS session_analytics_update ON public.session_analytics;
CREATE POLICY session_analytics_select ON public.session_analytics
  FOR SELECT TO authenticated
  USING (
    (public.is_admin())
    OR (((consultant_id = ( SELECT auth.uid() AS uid)) OR public.is_org_admin_of(organization_id) OR public.is_admin()))
  );
CREATE POLICY session_analytics_insert ON public.session_analytics
  FOR INSERT TO authenticated
  WITH CHECK (
    (public.is_admin())
  );
CREATE POLICY session_analytics_update ON public.session_analytics
  FOR UPDATE TO authenticated
  USING (
    (public.is_admin())
  )
  WITH CHECK (
    (public.is_admin())
  );
CREATE POLICY session_analytics_delete ON public.session_analytics
  FOR DELETE TO authenticated
  USING (
    (public.is_admin())
  );

-- public.session_reminders
--   SELECT to authenticated: session_reminders_all_manager, session_reminders_select_visible
--   INSERT to authenticated: session_reminders_all_manager
--   UPDATE to authenticated: session_reminders_all_manager
--   DELETE to authenticated: session_reminders_all_manager
DROP POLICY IF EXISTS session_reminders_all_manager ON public.session_reminders;
DROP POLICY IF EXISTS session_reminders_delete ON public.session_reminders;
DROP POLICY IF EXISTS session_reminders_insert ON public.session_reminders;
DROP POLICY IF EXISTS session_reminders_select ON public.session_reminders;
DROP POLICY IF EXISTS session_reminders_select_visible ON public.session_reminders;
DROP POLICY IF EXISTS session_reminders_update ON public.session_reminders;
CREATE POLICY session_reminders_select ON public.session_reminders
  FOR SELECT TO authenticated
  USING (
    ((EXISTS ( SELECT 1
   FROM public.session_bookings b
  WHERE ((b.id = session_reminders.booking_id) AND ((b.consultant_id = ( SELECT auth.uid() AS uid)) OR public.is_org_admin_of(b.organization_id) OR public.is_admin())))))
    OR (((recipient_id = ( SELECT auth.uid() AS uid)) OR (EXISTS ( SELECT 1
   FROM public.session_bookings b
  WHERE (b.id = session_reminders.booking_id)))))
  );
CREATE POLICY session_reminders_insert ON public.session_reminders
  FOR INSERT TO authenticated
  WITH CHECK (
    ((EXISTS ( SELECT 1
   FROM public.session_bookings b
  WHERE ((b.id = session_reminders.booking_id) AND ((b.consultant_id = ( SELECT auth.uid() AS uid)) OR public.is_org_admin_of(b.organization_id) OR public.is_admin())))))
  );
CREATE POLICY session_reminders_update ON public.session_reminders
  FOR UPDATE TO authenticated
  USING (
    ((EXISTS ( SELECT 1
   FROM public.session_bookings b
  WHERE ((b.id = session_reminders.booking_id) AND ((b.consultant_id = ( SELECT auth.uid() AS uid)) OR public.is_org_admin_of(b.organization_id) OR public.is_admin())))))
  )
  WITH CHECK (
    ((EXISTS ( SELECT 1
   FROM public.session_bookings b
  WHERE ((b.id = session_reminders.booking_id) AND ((b.consultant_id = ( SELECT auth.uid() AS uid)) OR public.is_org_admin_of(b.organization_id) OR public.is_admin())))))
  );
CREATE POLICY session_reminders_delete ON public.session_reminders
  FOR DELETE TO authenticated
  USING (
    ((EXISTS ( SELECT 1
   FROM public.session_bookings b
  WHERE ((b.id = session_reminders.booking_id) AND ((b.consultant_id = ( SELECT auth.uid() AS uid)) OR public.is_org_admin_of(b.organization_id) OR public.is_admin())))))
  );

-- public.sessions
--   SELECT to authenticated: sessions_all_manager, sessions_select_participant
--   INSERT to authenticated: sessions_all_manager
--   UPDATE to authenticated: sessions_all_manager
--   DELETE to authenticated: sessions_all_manager
DROP POLICY IF EXISTS sessions_all_manager ON public.sessions;
DROP POLICY IF EXISTS sessions_delete ON public.sessions;
DROP POLICY IF EXISTS sessions_insert ON public.sessions;
DROP POLICY IF EXISTS sessions_select ON public.sessions;
DROP POLICY IF EXISTS sessions_select_participant ON public.sessions;
DROP POLICY IF EXISTS sessions_update ON public.sessions;
CREATE POLICY sessions_select ON public.sessions
  FOR SELECT TO authenticated
  USING (
    (public.can_manage_bilan(bilan_id))
    OR (public.can_access_bilan(bilan_id))
  );
CREATE POLICY sessions_insert ON public.sessions
  FOR INSERT TO authenticated
  WITH CHECK (
    (public.can_manage_bilan(bilan_id))
  );
CREATE POLICY sessions_update ON public.sessions
  FOR UPDATE TO authenticated
  USING (
    (public.can_manage_bilan(bilan_id))
  )
  WITH CHECK (
    (public.can_manage_bilan(bilan_id))
  );
CREATE POLICY sessions_delete ON public.sessions
  FOR DELETE TO authenticated
  USING (
    (public.can_manage_bilan(bilan_id))
  );

-- public.survey_responses
--   SELECT to authenticated: survey_responses_all_admin, survey_responses_select_visible, survey_responses_write_beneficiary
--   INSERT to authenticated: survey_responses_all_admin, survey_responses_write_beneficiary
--   UPDATE to authenticated: survey_responses_all_admin, survey_responses_write_beneficiary
--   DELETE to authenticated: survey_responses_all_admin, survey_responses_write_beneficiary
DROP POLICY IF EXISTS survey_responses_all_admin ON public.survey_responses;
DROP POLICY IF EXISTS survey_responses_delete ON public.survey_responses;
DROP POLICY IF EXISTS survey_responses_insert ON public.survey_responses;
DROP POLICY IF EXISTS survey_responses_select ON public.survey_responses;
DROP POLICY IF EXISTS survey_responses_select_visible ON public.survey_responses;
DROP POLICY IF EXISTS survey_responses_update ON public.survey_responses;
DROP POLICY IF EXISTS survey_responses_write_beneficiary ON public.survey_responses;
CREATE POLICY survey_responses_select ON public.survey_responses
  FOR SELECT TO authenticated
  USING (
    (public.is_admin())
    OR ((EXISTS ( SELECT 1
   FROM public.satisfaction_surveys s
  WHERE (s.id = survey_responses.survey_id))))
    OR ((EXISTS ( SELECT 1
   FROM public.satisfaction_surveys s
  WHERE ((s.id = survey_responses.survey_id) AND (s.beneficiary_id = ( SELECT auth.uid() AS uid)) AND (s.status = ANY (ARRAY['sent'::text, 'in_progress'::text]))))))
  );
CREATE POLICY survey_responses_insert ON public.survey_responses
  FOR INSERT TO authenticated
  WITH CHECK (
    (public.is_admin())
    OR ((EXISTS ( SELECT 1
   FROM public.satisfaction_surveys s
  WHERE ((s.id = survey_responses.survey_id) AND (s.beneficiary_id = ( SELECT auth.uid() AS uid)) AND (s.status = ANY (ARRAY['sent'::text, 'in_progress'::text]))))))
  );
CREATE POLICY survey_responses_update ON public.survey_responses
  FOR UPDATE TO authenticated
  USING (
    (public.is_admin())
    OR ((EXISTS ( SELECT 1
   FROM public.satisfaction_surveys s
  WHERE ((s.id = survey_responses.survey_id) AND (s.beneficiary_id = ( SELECT auth.uid() AS uid)) AND (s.status = ANY (ARRAY['sent'::text, 'in_progress'::text]))))))
  )
  WITH CHECK (
    (public.is_admin())
    OR ((EXISTS ( SELECT 1
   FROM public.satisfaction_surveys s
  WHERE ((s.id = survey_responses.survey_id) AND (s.beneficiary_id = ( SELECT auth.uid() AS uid)) AND (s.status = ANY (ARRAY['sent'::text, 'in_progress'::text]))))))
  );
CREATE POLICY survey_responses_delete ON public.survey_responses
  FOR DELETE TO authenticated
  USING (
    (public.is_admin())
    OR ((EXISTS ( SELECT 1
   FROM public.satisfaction_surveys s
  WHERE ((s.id = survey_responses.survey_id) AND (s.beneficiary_id = ( SELECT auth.uid() AS uid)) AND (s.status = ANY (ARRAY['sent'::text, 'in_progress'::text]))))))
  );

-- public.users
--   SELECT to authenticated: users_all_admin, users_select_visible
--   INSERT to authenticated: users_all_admin
--   UPDATE to authenticated: users_all_admin, users_update_org_admin, users_update_self
--   DELETE to authenticated: users_all_admin
DROP POLICY IF EXISTS users_all_admin ON public.users;
DROP POLICY IF EXISTS users_delete ON public.users;
DROP POLICY IF EXISTS users_insert ON public.users;
DROP POLICY IF EXISTS users_select ON public.users;
DROP POLICY IF EXISTS users_select_visible ON public.users;
DROP POLICY IF EXISTS users_update ON public.users;
DROP POLICY IF EXISTS users_update_org_admin ON public.users;
DROP POLICY IF EXISTS users_update_self ON public.users;
CREATE POLICY users_select ON public.users
  FOR SELECT TO authenticated
  USING (
    (public.is_admin())
    OR (((id = ( SELECT auth.uid() AS uid)) OR public.is_admin() OR public.is_org_admin_of(organization_id) OR public.shares_bilan_with(id) OR public.administers_bilan_of(id)))
  );
CREATE POLICY users_insert ON public.users
  FOR INSERT TO authenticated
  WITH CHECK (
    (public.is_admin())
  );
CREATE POLICY users_update ON public.users
  FOR UPDATE TO authenticated
  USING (
    (public.is_admin())
    OR (public.is_org_admin_of(organization_id))
    OR ((id = ( SELECT auth.uid() AS uid)))
  )
  WITH CHECK (
    (public.is_admin())
    OR (public.is_org_admin_of(organization_id))
    OR ((id = ( SELECT auth.uid() AS uid)))
  );
CREATE POLICY users_delete ON public.users
  FOR DELETE TO authenticated
  USING (
    (public.is_admin())
  );
RESET client_min_messages;
