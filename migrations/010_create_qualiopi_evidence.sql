-- 010_create_qualiopi_evidence.sql
-- Evidence (éléments de preuve) gathered by an organisation for the Qualiopi indicators.
-- Creates:
--   * table     : qualiopi_evidence (file or link, reviewed before an audit)
--   * indexes, updated_at trigger, grants, row level security and policies
-- Re-runnable: every statement is guarded.

-- IF [NOT] EXISTS guards report skipped objects as NOTICEs: keep re-runs quiet
-- (reset at the end of the file).
SET client_min_messages = warning;

-- =============================================================================
-- Table
-- =============================================================================
CREATE TABLE IF NOT EXISTS public.qualiopi_evidence (
  id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid        NOT NULL REFERENCES public.organizations (id) ON DELETE CASCADE,
  indicator_id    uuid        NOT NULL REFERENCES public.qualiopi_indicators (id) ON DELETE RESTRICT,
  bilan_id        uuid        REFERENCES public.bilans (id) ON DELETE SET NULL,
  title           text        NOT NULL CHECK (btrim(title) <> ''),
  description     text,
  evidence_type   text        NOT NULL DEFAULT 'document'
                              CHECK (evidence_type IN ('document', 'procedure', 'record', 'survey', 'link', 'other')),
  storage_path    text,
  external_url    text,
  file_name       text,
  mime_type       text,
  file_size_bytes bigint      CHECK (file_size_bytes >= 0),
  status          text        NOT NULL DEFAULT 'submitted'
                              CHECK (status IN ('draft', 'submitted', 'validated', 'rejected', 'archived')),
  uploaded_by     uuid        REFERENCES public.users (id) ON DELETE SET NULL,
  reviewed_by     uuid        REFERENCES public.users (id) ON DELETE SET NULL,
  reviewed_at     timestamptz,
  review_comment  text,
  valid_until     date,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  deleted_at      timestamptz,
  -- evidence points to a stored file or to an external resource
  CONSTRAINT qualiopi_evidence_location_check CHECK (storage_path IS NOT NULL OR external_url IS NOT NULL),
  CONSTRAINT qualiopi_evidence_review_check
    CHECK (status NOT IN ('validated', 'rejected') OR reviewed_at IS NOT NULL)
);

COMMENT ON TABLE public.qualiopi_evidence IS 'Éléments de preuve attached to a Qualiopi indicator, optionally taken from a bilan.';

-- =============================================================================
-- Indexes
-- =============================================================================
CREATE INDEX IF NOT EXISTS idx_qualiopi_evidence_org_indicator ON public.qualiopi_evidence (organization_id, indicator_id);
CREATE INDEX IF NOT EXISTS idx_qualiopi_evidence_indicator_id ON public.qualiopi_evidence (indicator_id);
CREATE INDEX IF NOT EXISTS idx_qualiopi_evidence_bilan_id ON public.qualiopi_evidence (bilan_id);
CREATE INDEX IF NOT EXISTS idx_qualiopi_evidence_status ON public.qualiopi_evidence (organization_id, status);
CREATE INDEX IF NOT EXISTS idx_qualiopi_evidence_uploaded_by ON public.qualiopi_evidence (uploaded_by);
CREATE INDEX IF NOT EXISTS idx_qualiopi_evidence_reviewed_by ON public.qualiopi_evidence (reviewed_by);
CREATE INDEX IF NOT EXISTS idx_qualiopi_evidence_valid_until
  ON public.qualiopi_evidence (valid_until) WHERE valid_until IS NOT NULL AND deleted_at IS NULL;

-- =============================================================================
-- Trigger
-- =============================================================================
DROP TRIGGER IF EXISTS trg_qualiopi_evidence_updated_at ON public.qualiopi_evidence;
CREATE TRIGGER trg_qualiopi_evidence_updated_at
  BEFORE UPDATE ON public.qualiopi_evidence
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- =============================================================================
-- Privileges and row level security
-- =============================================================================
GRANT SELECT, INSERT, UPDATE, DELETE ON public.qualiopi_evidence TO authenticated;
GRANT ALL ON public.qualiopi_evidence TO service_role;

ALTER TABLE public.qualiopi_evidence ENABLE ROW LEVEL SECURITY;

-- staff of the organisation read and contribute evidence
DROP POLICY IF EXISTS qualiopi_evidence_select_staff ON public.qualiopi_evidence;
CREATE POLICY qualiopi_evidence_select_staff ON public.qualiopi_evidence
  FOR SELECT TO authenticated
  USING (public.is_staff_of(organization_id) OR public.is_admin());

DROP POLICY IF EXISTS qualiopi_evidence_insert_staff ON public.qualiopi_evidence;
CREATE POLICY qualiopi_evidence_insert_staff ON public.qualiopi_evidence
  FOR INSERT TO authenticated
  WITH CHECK (
    (public.is_staff_of(organization_id) AND uploaded_by = (SELECT auth.uid()))
    OR public.is_admin()
  );

-- the uploader edits their own evidence, org admins review and manage all of it
DROP POLICY IF EXISTS qualiopi_evidence_update_owner_or_org_admin ON public.qualiopi_evidence;
CREATE POLICY qualiopi_evidence_update_owner_or_org_admin ON public.qualiopi_evidence
  FOR UPDATE TO authenticated
  USING (
    (public.is_staff_of(organization_id) AND uploaded_by = (SELECT auth.uid()))
    OR public.is_org_admin_of(organization_id)
    OR public.is_admin()
  )
  WITH CHECK (public.is_staff_of(organization_id) OR public.is_admin());

DROP POLICY IF EXISTS qualiopi_evidence_delete_org_admin ON public.qualiopi_evidence;
CREATE POLICY qualiopi_evidence_delete_org_admin ON public.qualiopi_evidence
  FOR DELETE TO authenticated
  USING (public.is_org_admin_of(organization_id) OR public.is_admin());

RESET client_min_messages;
