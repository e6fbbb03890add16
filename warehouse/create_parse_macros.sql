-- Helpers for parsing JSON leaves that json_transform kept as JSON text (so their type can be checked).
-- json_kind: the leaf's JSON type, NULL when absent or JSON null.
create or replace temp macro json_kind(leaf) as json_type(leaf);
-- json_text: a string leaf's value; NULL for any other type. json_transform writes its JSON leaves compactly, so
-- a leaf is a string exactly when its text starts with a quote (cheaper than json_type, which parses it).
create or replace temp macro json_text(leaf) as case when starts_with(leaf, '"') then leaf ->> '$' end;
-- token_count: the count of a valid token leaf, else NULL.
create or replace temp macro token_count(leaf) as case when json_type(leaf) = 'UBIGINT' then leaf::varchar::bigint end;
-- seconds_ok: an absent leaf or a non-negative JSON number.
create or replace temp macro seconds_ok(leaf) as
    leaf is null or (json_type(leaf) in ('UBIGINT', 'BIGINT', 'DOUBLE') and try_cast(leaf::varchar as double) >= 0);
-- seconds_value: a valid seconds leaf as an exact decimal (the JSON text, not a float), else NULL.
create or replace temp macro seconds_value(leaf) as
    case when json_type(leaf) in ('UBIGINT', 'BIGINT', 'DOUBLE') then try_cast(leaf::varchar as decimal(18, 3)) end;
