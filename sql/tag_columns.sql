-- The defaults create_tag gives (in the install scripts, which are never
-- edited once released) agree with the limits in tag.c's table of the
-- columns of idgen.tags, which row_to_info checks: a default at a limit is
-- accepted, one past it is refused with a hint naming that same limit.
CREATE EXTENSION idgen;
\set SHOW_CONTEXT never

SELECT idgen.create_tag('limits_segment');
SELECT idgen.create_tag('limits_hybrid', kind => 'hybrid');

-- the hint of the error an UPDATE of idgen.tags raises, or 'accepted'
CREATE FUNCTION pg_temp.hint_of(sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    hint text;
BEGIN
    EXECUTE sql;
    RETURN 'accepted';
EXCEPTION WHEN invalid_parameter_value THEN
    GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
    RETURN hint;
END
$$;

-- maxvalue's default is the largest a tag of its kind may have (hybrid
-- tags: hybrid.h's HYBRID_MAX_SLAB, the same constant)
SELECT tag, kind, maxvalue,
       pg_temp.hint_of(format('UPDATE idgen.tags SET maxvalue = %s WHERE tag = %L',
                              maxvalue + 1, tag))
           = format('maxvalue must lie between start (%s) and %s.', start, maxvalue)
           AS default_is_limit
  FROM idgen.tags ORDER BY tag;

-- start's default is the least start a tag may have
SELECT tag, start,
       pg_temp.hint_of(format('UPDATE idgen.tags SET start = %s WHERE tag = %L',
                              start - 1, tag))
           = format('start must be at least %s.', start) AS default_is_limit
  FROM idgen.tags ORDER BY tag;

-- grant_size's default lies within its limits
SELECT tag, grant_size,
       pg_temp.hint_of(format('UPDATE idgen.tags SET grant_size = 0 WHERE tag = %L', tag))
           AS hint
  FROM idgen.tags ORDER BY tag;

SELECT count(idgen.drop_tag(tag)) AS dropped FROM idgen.tags;
SET client_min_messages = error;
DROP EXTENSION idgen CASCADE;
