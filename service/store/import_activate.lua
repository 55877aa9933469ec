-- import_activate: an imported site becomes visible. Its settings (which make it exist) and
-- the import's `active` marker are written together, so a re-run after this point never
-- replays the file's lines over figures the site has counted since.
-- KEYS[1] the site's settings   KEYS[2] the site's import progress hash
-- ARGV[1] the settings (JSON)   ARGV[2] the export id being imported
-- Returns 1 when activated now, 0 when it already was.
if redis.call('HGET', KEYS[2], 'active') == '1' then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], 'active', '1', 'export_id', ARGV[2])
return 1
