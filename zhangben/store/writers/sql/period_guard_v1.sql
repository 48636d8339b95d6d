-- zb_period_guard (v1): no entry is dated into a closed period, whoever inserts it.
-- It renders rule R13 of zhangben/core/postings/rules.py for PostgreSQL, as the function of a
-- row trigger on entries:
--   ZB425 R13 period closed (detail: JSON with account, trade_time, month, shop, ends_at)
-- A period of a shop covers the accounts of that shop, a period of shop '' every account; an
-- account is closed through the end of the latest closed period covering it (closed periods
-- run unbroken up to it, and the months before the first close are closed with it).
-- The trigger (zhangben/store/writers/period_guard.py, TRIGGER) calls this function only for
-- a row dated before the latest end of any closed period, a constant in its WHEN clause that
-- every close and reopen rewrites: a row dated after it (every posting dated now) costs the
-- comparison alone, and COPY keeps its multi-row inserts.
-- Released: never edit this file; a change is period_guard_v2.sql and a migration.
CREATE FUNCTION zb_period_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_bad record;
BEGIN
    SELECT a.number, p.month, p.shop_code, p.ends_at INTO v_bad
    FROM accounts a
    JOIN periods p ON p.status = 'closed' AND p.shop_code IN ('', coalesce(a.shop_code, ''))
    WHERE a.id = NEW.account_id
    ORDER BY p.ends_at DESC
    LIMIT 1;
    IF FOUND AND NEW.trade_time < v_bad.ends_at THEN
        RAISE EXCEPTION USING ERRCODE = 'ZB425',
            MESSAGE = format('period closed: account %s takes no entry dated %s (closed through %s)',
                             v_bad.number, NEW.trade_time, v_bad.month),
            DETAIL = json_build_object(
                'account', v_bad.number, 'trade_time', NEW.trade_time,
                'month', v_bad.month, 'shop', v_bad.shop_code, 'ends_at', v_bad.ends_at)::text;
    END IF;
    RETURN NULL;
END $$;
