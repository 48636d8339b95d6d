-- zb_period_guard (v1): no entry is dated into a closed period, whoever inserts it.
-- It renders rule R13 of zhangben/core/postings/rules.py for PostgreSQL, as a statement-level
-- trigger on entries with a transition table: one call per INSERT or COPY, whatever its rows.
--   ZB425 R13 period closed (detail: JSON with account, trade_time, month, shop, ends_at)
-- A period of a shop covers the accounts of that shop, a period of shop '' every account; an
-- account is closed through the end of the latest closed period covering it (closed periods
-- run unbroken up to it, and the months before the first close are closed with it).
-- Fast path: no period closed, or no new row dated before the latest end of any closed
-- period: one probe of ix_periods_status_ends_at (and a scan of the new rows).
-- Released: never edit this file; a change is period_guard_v2.sql and a migration.
CREATE FUNCTION zb_period_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_latest timestamptz;
    v_bad record;
BEGIN
    SELECT max(p.ends_at) INTO v_latest FROM periods p WHERE p.status = 'closed';
    IF v_latest IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT a.number, n.trade_time, c.month, c.shop_code, c.ends_at INTO v_bad
    FROM zb_new n
    JOIN accounts a ON a.id = n.account_id
    CROSS JOIN LATERAL (
        SELECT p.month, p.shop_code, p.ends_at FROM periods p
        WHERE p.status = 'closed' AND p.shop_code IN ('', coalesce(a.shop_code, ''))
        ORDER BY p.ends_at DESC LIMIT 1) c
    WHERE n.trade_time < v_latest AND n.trade_time < c.ends_at
    ORDER BY n.id
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'ZB425',
            MESSAGE = format('period closed: account %s takes no entry dated %s (closed through %s)',
                             v_bad.number, v_bad.trade_time, v_bad.month),
            DETAIL = json_build_object(
                'account', v_bad.number, 'trade_time', v_bad.trade_time,
                'month', v_bad.month, 'shop', v_bad.shop_code, 'ends_at', v_bad.ends_at)::text;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER zb_period_guard AFTER INSERT ON entries
    REFERENCING NEW TABLE AS zb_new
    FOR EACH STATEMENT EXECUTE FUNCTION zb_period_guard();
