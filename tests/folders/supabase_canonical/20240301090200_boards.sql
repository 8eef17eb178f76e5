-- Boards belong to a member.
create table public.boards (
  id uuid primary key default extensions.uuid_generate_v4(),
  owner_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  title text not null,
  created_at timestamptz not null default now()
);

alter table public.boards enable row level security;

create policy "Owners manage their boards"
  on public.boards for all to authenticated
  using (owner_id = (select auth.uid()))
  with check (owner_id = (select auth.uid()));

-- Cards: the unqualified call resolves through the extensions schema on the search_path.
create table public.cards (
  id uuid primary key default uuid_generate_v4(),
  board_id uuid not null references public.boards (id) on delete cascade,
  body text not null default '',
  position int not null default 0
);

alter table public.cards enable row level security;

create policy "Cards follow their board"
  on public.cards for all to authenticated
  using (exists (select 1 from public.boards b where b.id = board_id and b.owner_id = (select auth.uid())));

-- Clients follow card changes live.
alter publication supabase_realtime add table public.cards;
