-- A private bucket; each member writes under a folder named after their id.
insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values ('pictures', 'pictures', false, 5242880, array['image/png', 'image/jpeg', 'image/webp'])
on conflict (id) do nothing;

create policy "Members read their own pictures"
  on storage.objects for select to authenticated
  using (bucket_id = 'pictures' and (storage.foldername(name))[1] = (select auth.uid())::text);

create policy "Members upload into their own folder"
  on storage.objects for insert to authenticated
  with check (
    bucket_id = 'pictures'
    and (storage.foldername(name))[1] = (select auth.uid())::text
    and lower(storage.extension(name)) in ('png', 'jpg', 'jpeg', 'webp')
  );

create policy "Members replace their own pictures"
  on storage.objects for update to authenticated
  using (bucket_id = 'pictures' and owner_id = (select auth.uid())::text);

create policy "Members delete their own pictures"
  on storage.objects for delete to authenticated
  using (bucket_id = 'pictures' and owner_id = (select auth.uid())::text);
