-- 013_create_qualiopi_audit_log.sql
-- Audit trail of the Qualiopi compliance work.
-- Creates:
--   * table     : qualiopi_audit_log (append-only)
--   * function  : log_qualiopi_change(), and its triggers on organization_qualiopi_status and
--                 qualiopi_evidence, which record every change of those tables automatically
--   * indexes, grants, row level security and policies
-- Re-runnable: every statement is guarded.

-- IF [NOT] EXISTS guards report skipped objects as NOTICEs: keep re-runs quiet
-- (reset at the end of the file).
SET client_min_messages = warning;

-- =============================================================================
-- Table (append-only, no updated_at)
-- =============================================================================
CREATE TABLE IF NOT EXISTS public.qualiopi_audit_log (
  id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid        REFERENCES public.organizations (id) ON DELETE CASCADE,
  indicator_id    uuid        REFERENCES public.qualiopi_indicators (id) ON DELETE SET NULL,
  actor_id        uuid        REFERENCES public.users (id) ON DELETE SET NULL,
  action          text        NOT NULL
                              CHECK (action IN ('create', 'update', 'delete', 'status_change', 'upload',
                                                'validate', 'reject', 'review', 'export', 'audit')),
  entity_type     text        NOT NULL CHECK (btrim(entity_type) <> ''),
  entity_id       uuid,
  old_values      jsonb,
  new_values      jsonb,
  ip_address      inet,
  user_agent      text,
  created_at      timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE public.qualiopi_audit_log IS
  'Append-only trail of Qualiopi compliance changes. Rows for organization_qualiopi_status and qualiopi_evidence are written by triggers.';

-- =============================================================================
-- Indexes
-- =============================================================================
CREATE INDEX IF NOT EXISTS idx_qualiopi_audit_log_org_created ON public.qualiopi_audit_log (organization_id, created_at);
CREATE INDEX IF NOT EXISTS idx_qualiopi_audit_log_indicator_id ON public.qualiopi_audit_log (indicator_id);
CREATE INDEX IF NOT EXISTS idx_qualiopi_audit_log_actor_id ON public.qualiopi_audit_log (actor_id);
CREATE INDEX IF NOT EXISTS idx_qualiopi_audit_log_entity ON public.qualiopi_audit_log (entity_type, entity_id);
CREATE INDEX IF NOT EXISTS idx_qualiopi_audit_log_action ON public.qualiopi_audit_log (action);
CREATE INDEX IF NOT EXISTS idx_qualiopi_audit_log_created_at ON public.qualiopi_audit_log (created_at);

-- =============================================================================
-- Automatic logging of compliance status and evidence changes.
-- SECURITY DEFINER: the log is written whatever the caller may insert itself.
-- =============================================================================
CREATE OR REPLACE FUNCTION public.log_qualiopi_change()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public
AS $$
DECLARE
  v_old    jsonb := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END;
  v_new    jsonb := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) END;
  v_row    jsonb := coalesce(v_new, v_old);
  v_org    uuid  := (v_row ->> 'organization_id')::uuid;
  v_action text;
  v_actor  uuid;
BEGIN
  -- nothing but updated_at changed: nothing to record
  IF TG_OP = 'UPDATE' AND (v_old - 'updated_at') = (v_new - 'updated_at') THEN
    RETURN NULL;
  END IF;

  -- rows removed because their organisation is being deleted: the log goes with it
  IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM public.organizations WHERE id = v_org) THEN
    RETURN NULL;
  END IF;

  v_action := CASE
    WHEN TG_OP = 'INSERT' THEN 'create'
    WHEN TG_OP = 'DELETE' THEN 'delete'
    WHEN (v_old ->> 'status') IS DISTINCT FROM (v_new ->> 'status') THEN 'status_change'
    ELSE 'update'
  END;

  -- the acting user when the request carries a known user id (NULL for the backend / service role)
  SELECT u.id INTO v_actor FROM public.users AS u WHERE u.id = auth.uid();

  INSERT INTO public.qualiopi_audit_log
    (organization_id, indicator_id, actor_id, action, entity_type, entity_id, old_values, new_values)
  VALUES
    (v_org, (v_row ->> 'indicator_id')::uuid, v_actor, v_action, TG_TABLE_NAME,
     (v_row ->> 'id')::uuid, v_old, v_new);

  RETURN NULL;
END;
$$;

REVOKE ALL ON FUNCTION public.log_qualiopi_change() FROM PUBLIC, anon;

DROP TRIGGER IF EXISTS trg_organization_qualiopi_status_audit ON public.organization_qualiopi_status;
CREATE TRIGGER trg_organization_qualiopi_status_audit
  AFTER INSERT OR UPDATE OR DELETE ON public.organization_qualiopi_status
  FOR EACH ROW EXECUTE FUNCTION public.log_qualiopi_change();

DROP TRIGGER IF EXISTS trg_qualiopi_evidence_audit ON public.qualiopi_evidence;
CREATE TRIGGER trg_qualiopi_evidence_audit
  AFTER INSERT OR UPDATE OR DELETE ON public.qualiopi_evidence
  FOR EACH ROW EXECUTE FUNCTION public.log_qualiopi_change();

-- =============================================================================
-- Privileges and row level security
-- =============================================================================
GRANT SELECT, INSERT ON public.qualiopi_audit_log TO authenticated;
GRANT ALL ON public.qualiopi_audit_log TO service_role;

ALTER TABLE public.qualiopi_audit_log ENABLE ROW LEVEL SECURITY;

-- org admins read their organisation's trail, actors read their own entries, admins read all
DROP POLICY IF EXISTS qualiopi_audit_log_select_visible ON public.qualiopi_audit_log;
CREATE POLICY qualiopi_audit_log_select_visible ON public.qualiopi_audit_log
  FOR SELECT TO authenticated
  USING (
    actor_id = (SELECT auth.uid())
    OR public.is_org_admin_of(organization_id)
    OR public.is_admin()
  );

-- staff may add manual entries (review, export, audit...) in their own name. No UPDATE / DELETE policy.
DROP POLICY IF EXISTS qualiopi_audit_log_insert_staff ON public.qualiopi_audit_log;
CREATE POLICY qualiopi_audit_log_insert_staff ON public.qualiopi_audit_log
  FOR INSERT TO authenticated
  WITH CHECK (
    actor_id = (SELECT auth.uid())
    AND (public.is_staff_of(organization_id) OR public.is_admin())
  );

RESET client_min_messages;
