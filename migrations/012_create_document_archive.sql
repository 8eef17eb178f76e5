-- 012_create_document_archive.sql
-- Archive of the documents an organisation must keep (Qualiopi evidence, GDPR retention).
-- Creates:
--   * table     : document_archive (archived files with integrity hash and retention date)
--   * table     : document_access_log (append-only trail of who viewed / downloaded what)
--   * indexes, updated_at trigger, grants, row level security and policies
-- Re-runnable: every statement is guarded.

-- IF [NOT] EXISTS guards report skipped objects as NOTICEs: keep re-runs quiet
-- (reset at the end of the file).
SET client_min_messages = warning;

-- =============================================================================
-- document_archive
-- The organisation is RESTRICTed: an archive is not dropped along with its
-- organisation by accident. Links to the bilan and people are kept as SET NULL
-- so that archived evidence survives the deletion of the live records.
-- =============================================================================
CREATE TABLE IF NOT EXISTS public.document_archive (
  id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id    uuid        NOT NULL REFERENCES public.organizations (id) ON DELETE RESTRICT,
  bilan_id           uuid        REFERENCES public.bilans (id) ON DELETE SET NULL,
  beneficiary_id     uuid        REFERENCES public.users (id) ON DELETE SET NULL,
  source_document_id uuid        REFERENCES public.documents (id) ON DELETE SET NULL,
  document_type      text        NOT NULL DEFAULT 'other'
                                 CHECK (document_type IN ('convention', 'preliminary', 'investigation', 'conclusion',
                                                          'synthesis', 'attendance_sheet', 'survey_report',
                                                          'invoice', 'evidence', 'other')),
  title              text        NOT NULL CHECK (btrim(title) <> ''),
  file_name          text,
  storage_path       text        NOT NULL,
  mime_type          text,
  file_size_bytes    bigint      CHECK (file_size_bytes >= 0),
  sha256             text        CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  version            integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
  archived_by        uuid        REFERENCES public.users (id) ON DELETE SET NULL,
  archived_at        timestamptz NOT NULL DEFAULT now(),
  retention_until    date,
  deleted_at         timestamptz,
  deletion_reason    text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT document_archive_deletion_check CHECK (deleted_at IS NOT NULL OR deletion_reason IS NULL)
);

COMMENT ON TABLE public.document_archive IS 'Archived documents kept as Qualiopi evidence, with integrity hash and retention date.';
COMMENT ON COLUMN public.document_archive.sha256 IS 'Lower-case hex SHA-256 of the stored file, to prove it was not altered.';
COMMENT ON COLUMN public.document_archive.retention_until IS 'Date after which the document must be purged (GDPR retention period).';

CREATE INDEX IF NOT EXISTS idx_document_archive_org_type ON public.document_archive (organization_id, document_type);
CREATE INDEX IF NOT EXISTS idx_document_archive_bilan_id ON public.document_archive (bilan_id);
CREATE INDEX IF NOT EXISTS idx_document_archive_beneficiary_id ON public.document_archive (beneficiary_id);
CREATE INDEX IF NOT EXISTS idx_document_archive_source_document_id ON public.document_archive (source_document_id);
CREATE INDEX IF NOT EXISTS idx_document_archive_archived_by ON public.document_archive (archived_by);
CREATE INDEX IF NOT EXISTS idx_document_archive_archived_at ON public.document_archive (organization_id, archived_at);
CREATE INDEX IF NOT EXISTS idx_document_archive_retention
  ON public.document_archive (retention_until) WHERE deleted_at IS NULL AND retention_until IS NOT NULL;

DROP TRIGGER IF EXISTS trg_document_archive_updated_at ON public.document_archive;
CREATE TRIGGER trg_document_archive_updated_at
  BEFORE UPDATE ON public.document_archive
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- =============================================================================
-- document_access_log (append-only, no updated_at)
-- document_id is SET NULL so that the trail outlives a purged document.
-- =============================================================================
CREATE TABLE IF NOT EXISTS public.document_access_log (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  document_id uuid        REFERENCES public.document_archive (id) ON DELETE SET NULL,
  user_id     uuid        REFERENCES public.users (id) ON DELETE SET NULL,
  action      text        NOT NULL
                          CHECK (action IN ('view', 'download', 'share', 'print', 'update', 'delete', 'restore')),
  ip_address  inet,
  user_agent  text,
  accessed_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE public.document_access_log IS 'Append-only log of accesses to archived documents.';

CREATE INDEX IF NOT EXISTS idx_document_access_log_document_id ON public.document_access_log (document_id, accessed_at);
CREATE INDEX IF NOT EXISTS idx_document_access_log_user_id ON public.document_access_log (user_id, accessed_at);
CREATE INDEX IF NOT EXISTS idx_document_access_log_accessed_at ON public.document_access_log (accessed_at);

-- =============================================================================
-- Privileges and row level security
-- =============================================================================
GRANT SELECT, INSERT, UPDATE, DELETE ON public.document_archive TO authenticated;
GRANT SELECT, INSERT ON public.document_access_log TO authenticated;
GRANT ALL ON public.document_archive, public.document_access_log TO service_role;

ALTER TABLE public.document_archive    ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.document_access_log ENABLE ROW LEVEL SECURITY;

-- archive: the beneficiary sees their documents (GDPR right of access), the consultant
-- those of their bilans, org admins manage their organisation's archive
DROP POLICY IF EXISTS document_archive_select_visible ON public.document_archive;
CREATE POLICY document_archive_select_visible ON public.document_archive
  FOR SELECT TO authenticated
  USING (
    beneficiary_id = (SELECT auth.uid())
    OR (bilan_id IS NOT NULL AND public.can_manage_bilan(bilan_id))
    OR public.is_org_admin_of(organization_id)
    OR public.is_admin()
  );

DROP POLICY IF EXISTS document_archive_insert_staff ON public.document_archive;
CREATE POLICY document_archive_insert_staff ON public.document_archive
  FOR INSERT TO authenticated
  WITH CHECK (
    (public.is_staff_of(organization_id) AND archived_by = (SELECT auth.uid()))
    OR public.is_admin()
  );

DROP POLICY IF EXISTS document_archive_update_org_admin ON public.document_archive;
CREATE POLICY document_archive_update_org_admin ON public.document_archive
  FOR UPDATE TO authenticated
  USING (public.is_org_admin_of(organization_id) OR public.is_admin())
  WITH CHECK (public.is_org_admin_of(organization_id) OR public.is_admin());

DROP POLICY IF EXISTS document_archive_delete_org_admin ON public.document_archive;
CREATE POLICY document_archive_delete_org_admin ON public.document_archive
  FOR DELETE TO authenticated
  USING (public.is_org_admin_of(organization_id) OR public.is_admin());

-- access log: users record their own accesses to documents they can see, and read them back,
-- org admins read the log of their organisation's documents. No UPDATE / DELETE policy.
DROP POLICY IF EXISTS document_access_log_insert_self ON public.document_access_log;
CREATE POLICY document_access_log_insert_self ON public.document_access_log
  FOR INSERT TO authenticated
  WITH CHECK (
    user_id = (SELECT auth.uid())
    AND EXISTS (SELECT 1 FROM public.document_archive AS d WHERE d.id = document_id)
  );

DROP POLICY IF EXISTS document_access_log_select_visible ON public.document_access_log;
CREATE POLICY document_access_log_select_visible ON public.document_access_log
  FOR SELECT TO authenticated
  USING (
    user_id = (SELECT auth.uid())
    OR public.is_admin()
    OR EXISTS (SELECT 1 FROM public.document_archive AS d
               WHERE d.id = document_id AND public.is_org_admin_of(d.organization_id))
  );

RESET client_min_messages;
