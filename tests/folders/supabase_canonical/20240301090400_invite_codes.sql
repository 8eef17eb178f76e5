-- Invitation codes are kept hashed (pgcrypto), never in clear.
create table public.invite_codes (
  id uuid primary key default gen_random_uuid(),
  board_id uuid not null references public.boards (id) on delete cascade,
  code_hash text not null,
  fingerprint text not null,
  created_at timestamptz not null default now()
);

alter table public.invite_codes enable row level security;

-- Staff (app metadata role) read the codes.
create policy "Staff read invite codes"
  on public.invite_codes for select to authenticated
  using (
    exists (
      select 1 from auth.users u
      where u.id = (select auth.uid())
        and u.raw_app_meta_data ->> 'role' = 'staff'
    )
  );

create or replace function public.new_invite_code(board uuid, code text)
returns uuid
language sql
security definer set search_path = ''
as $$
  insert into public.invite_codes (board_id, code_hash, fingerprint)
  values (board, extensions.crypt(code, extensions.gen_salt('bf')),
          encode(extensions.digest(code, 'sha256'), 'hex'))
  returning id;
$$;

create or replace function public.invite_code_matches(invite uuid, code text)
returns boolean
language sql stable
security definer set search_path = ''
as $$
  select exists (
    select 1 from public.invite_codes i
    where i.id = invite and i.code_hash = extensions.crypt(code, i.code_hash)
  );
$$;

revoke execute on function public.new_invite_code(uuid, text) from anon;
