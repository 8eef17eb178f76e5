-- The tables the next file changes (a database may hold many rows of them by then).
CREATE TABLE public.owners (id bigint PRIMARY KEY);
CREATE TABLE public.items (
  id bigint PRIMARY KEY,
  name varchar(50),
  price integer,
  legacy text,
  owner_id bigint
);
CREATE TABLE public.old_items (id bigint PRIMARY KEY);
