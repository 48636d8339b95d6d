-- zb_post: one posting in ONE round trip on PostgreSQL, with the same checks as
-- zhangben/core/posting.py (which stays the reference implementation and the SQLite path).
-- Errors carry SQLSTATE 'ZB' + HTTP-like code so the core maps them to its own exceptions.
CREATE OR REPLACE FUNCTION zb_post(
    p_kind text, p_trade_no text, p_key text, p_hash text, p_reverses_posting bigint,
    p_trade_time timestamptz, p_operator integer, p_remark text, p_source text,
    p_external_id text,
    p_account_ids integer[], p_account_numbers text[], p_deltas bigint[], p_types text[],
    p_categories integer[], p_subjects integer[], p_counterparties text[],
    p_counterparty_legs integer[], p_descriptions text[], p_reverses_entries bigint[],
    p_platform_balances bigint[], p_max_balance bigint)
RETURNS TABLE (replayed boolean, posting_id bigint, entry_id bigint, account_id integer,
               account_number text, account_name text, currency text, shop_code text,
               balance_after bigint, counterparty text, recorded_at timestamptz,
               trade_time timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    n integer := array_length(p_deltas, 1);
    ids integer[] := p_account_ids;
    v_found record;
    v_id integer;
    v_acc record;
    v_currency text;
    v_balance bigint;
    v_posting bigint;
    v_now timestamptz := now();
    v_time timestamptz := coalesce(p_trade_time, now());
    v_key text := p_key;
    i integer;
    j integer;
    v_after bigint[] := array_fill(0::bigint, ARRAY[n]);
    v_cp text[] := p_counterparties;
    v_numbers text[] := array_fill(NULL::text, ARRAY[n]);
BEGIN
    IF v_key IS NOT NULL THEN
        SELECT p.id, p.request_hash INTO v_found FROM postings p WHERE p.idempotency_key = v_key;
        IF FOUND THEN
            IF v_found.request_hash IS DISTINCT FROM p_hash THEN
                RAISE EXCEPTION USING ERRCODE = 'ZB409', MESSAGE =
                    format('idempotency key %L was already used for a different request', v_key);
            END IF;
            -- replay: the caller reloads the first posting's entries
            RETURN QUERY SELECT true, v_found.id, NULL::bigint, NULL::integer, NULL::text,
                NULL::text, NULL::text, NULL::text, NULL::bigint, NULL::text,
                NULL::timestamptz, NULL::timestamptz;
            RETURN;
        END IF;
    END IF;

    FOR i IN 1..n LOOP
        IF ids[i] IS NULL THEN
            SELECT a.id INTO v_id FROM accounts a WHERE a.number = p_account_numbers[i];
            ids[i] := v_id;
            IF NOT FOUND THEN
                RAISE EXCEPTION USING ERRCODE = 'ZB404',
                    MESSAGE = format('account %s does not exist', p_account_numbers[i]);
            END IF;
        END IF;
    END LOOP;

    IF EXISTS (SELECT 1 FROM unnest(ids) AS x(id) LEFT JOIN accounts a ON a.id = x.id
               WHERE a.id IS NULL) THEN
        RAISE EXCEPTION USING ERRCODE = 'ZB404', MESSAGE = format('account %s does not exist',
            (SELECT x.id FROM unnest(ids) AS x(id) LEFT JOIN accounts a ON a.id = x.id
             WHERE a.id IS NULL LIMIT 1));
    END IF;
    IF p_kind = 'transfer' AND (SELECT count(DISTINCT x) FROM unnest(ids) x) < n THEN
        RAISE EXCEPTION USING ERRCODE = 'ZB411', MESSAGE = 'a transfer needs two different accounts';
    END IF;

    -- lock in id order: concurrent postings on the same accounts queue, never deadlock
    FOR v_acc IN SELECT a.id, a.number, a.currency, a.status, a.allow_overdraft, a.balance
                 FROM accounts a WHERE a.id = ANY(ids) ORDER BY a.id FOR UPDATE LOOP
        IF v_currency IS NOT NULL AND v_currency <> v_acc.currency THEN
            RAISE EXCEPTION USING ERRCODE = 'ZB422', MESSAGE = format(
                'accounts hold different currencies: %s, %s',
                least(v_currency, v_acc.currency), greatest(v_currency, v_acc.currency));
        END IF;
        v_currency := v_acc.currency;
        IF v_acc.status <> 'open' THEN
            RAISE EXCEPTION USING ERRCODE = 'ZB423',
                MESSAGE = format('account %s is closed', v_acc.number);
        END IF;
        v_balance := v_acc.balance;
        FOR i IN 1..n LOOP
            IF ids[i] = v_acc.id THEN
                v_balance := v_balance + p_deltas[i];
                v_after[i] := v_balance;
                v_numbers[i] := v_acc.number;
            END IF;
        END LOOP;
        IF v_balance < 0 AND NOT v_acc.allow_overdraft AND v_balance < v_acc.balance THEN
            RAISE EXCEPTION USING ERRCODE = 'ZB402', MESSAGE = format(
                'account %s holds %s; this posting would take it to %s and the account does not allow overdraft',
                v_acc.number, round(v_acc.balance / 10000.0, 2), round(v_balance / 10000.0, 2));
        END IF;
        IF abs(v_balance) > p_max_balance THEN
            RAISE EXCEPTION USING ERRCODE = 'ZB400',
                MESSAGE = format('amount: account %s''s balance would overflow', v_acc.number);
        END IF;
        UPDATE accounts SET balance = v_balance WHERE id = v_acc.id;
    END LOOP;
    FOR i IN 1..n LOOP
        j := p_counterparty_legs[i];
        IF j IS NOT NULL THEN
            v_cp[i] := v_numbers[j];
        END IF;
    END LOOP;

    INSERT INTO postings (kind, trade_no, idempotency_key, request_hash, reverses_posting_id, created_at)
    VALUES (p_kind, p_trade_no, v_key, p_hash, p_reverses_posting, v_now)
    RETURNING id INTO v_posting;

    RETURN QUERY
    WITH ins AS (
        INSERT INTO entries (posting_id, account_id, type, amount, balance_after, trade_no,
                             trade_time, recorded_at, operator_id, category_id, subject_id,
                             counterparty, description, remark, source, external_id,
                             reverses_entry_id, platform_balance)
        SELECT v_posting, ids[k], p_types[k], p_deltas[k], v_after[k], p_trade_no, v_time,
               v_now, p_operator, p_categories[k], p_subjects[k], v_cp[k], p_descriptions[k],
               coalesce(p_remark, ''), p_source, p_external_id, p_reverses_entries[k],
               p_platform_balances[k]
        FROM generate_series(1, n) AS k
        ORDER BY k
        RETURNING entries.id, entries.account_id, entries.balance_after, entries.counterparty
    )
    SELECT false, v_posting, ins.id, ins.account_id, a.number::text, a.name::text,
           a.currency::text, a.shop_code::text, ins.balance_after, ins.counterparty::text,
           v_now, v_time
    FROM ins JOIN accounts a ON a.id = ins.account_id
    ORDER BY ins.id;
END;
$$;
