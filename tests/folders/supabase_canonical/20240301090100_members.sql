-- One member row per sign-up, kept in step with auth.users.
create table public.members (
  id uuid not null references auth.users (id) on delete cascade,
  handle text unique,
  display_name text,
  picture_url text,
  joined_at timestamptz not null default now(),
  primary key (id),
  constraint handle_is_long_enough check (char_length(handle) >= 3)
);

alter table public.members enable row level security;

create policy "Members are visible to signed-in users"
  on public.members for select to authenticated
  using (true);

create policy "A member edits their own row"
  on public.members for update to authenticated
  using ((select auth.uid()) = id)
  with check ((select auth.uid()) = id);

-- Runs as its owner, with an empty search_path: every name is qualified.
create or replace function public.on_new_member()
returns trigger
language plpgsql
security definer set search_path = ''
as $$
begin
  insert into public.members (id, display_name, picture_url)
  values (
    new.id,
    coalesce(new.raw_user_meta_data ->> 'name', split_part(new.email, '@', 1)),
    new.raw_user_meta_data ->> 'picture'
  );
  return new;
end;
$$;

create trigger on_auth_user_created
  after insert on auth.users
  for each row execute procedure public.on_new_member();
