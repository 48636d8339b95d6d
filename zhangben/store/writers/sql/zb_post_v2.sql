-- zb_post (v2): one posting in ONE round trip on PostgreSQL, with the same checks, in the same
-- order, as zhangben/core/posting.py (the reference implementation and the SQLite path).
-- Errors carry SQLSTATE 'ZB' + an HTTP-like code so the core maps them to its own exceptions.
--
-- A posting has one leg (income, expense) or two (transfer, reversal of a transfer), so the
-- legs come as scalars: cheaper to send, parse and run than arrays (v1 took parallel arrays;
-- see bench/RESULTS.md, benchmark 1). Leg 2 is absent when p_number2 and p_id2 are both NULL.
-- An account is named by id or by number. With p_cross, each leg's counterparty is the other
-- leg's account number (transfers).
CREATE FUNCTION zb_post(
    p_kind text, p_trade_no text, p_key text, p_hash text, p_reverses_posting bigint,
    p_trade_time timestamptz, p_operator integer, p_remark text, p_source text,
    p_external_id text, p_max_balance bigint, p_cross boolean,
    p_id1 integer, p_number1 text, p_delta1 bigint, p_type1 text, p_category1 integer,
    p_subject1 integer, p_description1 text, p_counterparty1 text, p_reverses1 bigint,
    p_platform_balance1 bigint,
    p_id2 integer, p_number2 text, p_delta2 bigint, p_type2 text, p_category2 integer,
    p_subject2 integer, p_description2 text, p_counterparty2 text, p_reverses2 bigint,
    p_platform_balance2 bigint)
RETURNS TABLE (replayed boolean, posting_id bigint, recorded_at timestamptz,
               trade_time timestamptz, currency text,
               entry1 bigint, account1 integer, number1 text, name1 text, shop1 text,
               after1 bigint, counterparty1 text,
               entry2 bigint, account2 integer, number2 text, name2 text, shop2 text,
               after2 bigint, counterparty2 text)
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
    two boolean := p_id2 IS NOT NULL OR p_number2 IS NOT NULL;
    a1 accounts;
    a2 accounts;
    v_acc accounts;
    v_found record;
    b1 bigint;
    b2 bigint;
    v_after bigint;
    i integer;
    v_posting bigint;
    e1 bigint;
    e2 bigint;
    cp1 text := p_counterparty1;
    cp2 text := p_counterparty2;
    v_now timestamptz := now();
    v_time timestamptz := coalesce(p_trade_time, now());
BEGIN
    IF p_key IS NOT NULL THEN
        SELECT p.id, p.request_hash INTO v_found FROM postings p WHERE p.idempotency_key = p_key;
        IF FOUND THEN
            IF v_found.request_hash IS DISTINCT FROM p_hash THEN
                RAISE EXCEPTION USING ERRCODE = 'ZB409', MESSAGE =
                    format('idempotency key %L was already used for a different request', p_key);
            END IF;
            -- replay: the caller reloads the first posting's entries
            replayed := true;
            posting_id := v_found.id;
            RETURN NEXT;
            RETURN;
        END IF;
    END IF;

    -- resolve and lock the accounts in one statement, in id order: concurrent postings on
    -- the same accounts queue, never deadlock
    FOR v_acc IN SELECT * FROM accounts a
                 WHERE a.id IN (p_id1, p_id2) OR a.number IN (p_number1, p_number2)
                 ORDER BY a.id FOR UPDATE LOOP
        IF v_acc.id = p_id1 OR v_acc.number = p_number1 THEN a1 := v_acc; END IF;
        IF v_acc.id = p_id2 OR v_acc.number = p_number2 THEN a2 := v_acc; END IF;
    END LOOP;
    IF a1.id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'ZB404', MESSAGE =
            format('account %s does not exist', coalesce(p_number1, p_id1::text));
    END IF;
    IF two AND a2.id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'ZB404', MESSAGE =
            format('account %s does not exist', coalesce(p_number2, p_id2::text));
    END IF;
    IF two AND p_kind = 'transfer' AND a1.id = a2.id THEN
        RAISE EXCEPTION USING ERRCODE = 'ZB411', MESSAGE = 'a transfer needs two different accounts';
    END IF;
    IF two AND a1.currency <> a2.currency THEN
        RAISE EXCEPTION USING ERRCODE = 'ZB422', MESSAGE = format(
            'accounts hold different currencies: %s, %s',
            least(a1.currency, a2.currency), greatest(a1.currency, a2.currency));
    END IF;
    IF a1.status <> 'open' THEN
        RAISE EXCEPTION USING ERRCODE = 'ZB423', MESSAGE = format('account %s is closed', a1.number);
    END IF;
    IF two AND a2.status <> 'open' THEN
        RAISE EXCEPTION USING ERRCODE = 'ZB423', MESSAGE = format('account %s is closed', a2.number);
    END IF;

    b1 := a1.balance + p_delta1;
    IF two THEN
        IF a2.id = a1.id THEN  -- both legs on one account: leg 2 chains on leg 1
            b2 := b1 + p_delta2;
        ELSE
            b2 := a2.balance + p_delta2;
        END IF;
    END IF;
    -- overdraft and overflow, on each account's balance after the whole posting
    FOR i IN 1..(CASE WHEN two AND a2.id <> a1.id THEN 2 ELSE 1 END) LOOP
        IF i = 1 THEN
            v_acc := a1;
            v_after := CASE WHEN two AND a2.id = a1.id THEN b2 ELSE b1 END;
        ELSE
            v_acc := a2;
            v_after := b2;
        END IF;
        IF v_after < 0 AND NOT v_acc.allow_overdraft AND v_after < v_acc.balance THEN
            RAISE EXCEPTION USING ERRCODE = 'ZB402', MESSAGE = format(
                'account %s holds %s; this posting would take it to %s and the account does not allow overdraft',
                v_acc.number, round(v_acc.balance / 10000.0, 2), round(v_after / 10000.0, 2));
        END IF;
        IF abs(v_after) > p_max_balance THEN
            RAISE EXCEPTION USING ERRCODE = 'ZB400',
                MESSAGE = format('amount: account %s''s balance would overflow', v_acc.number);
        END IF;
    END LOOP;

    UPDATE accounts SET balance = CASE WHEN two AND a2.id = a1.id THEN b2 ELSE b1 END
    WHERE id = a1.id;
    IF two AND a2.id <> a1.id THEN
        UPDATE accounts SET balance = b2 WHERE id = a2.id;
    END IF;
    IF p_cross THEN
        cp1 := a2.number;
        cp2 := a1.number;
    END IF;

    INSERT INTO postings (kind, trade_no, idempotency_key, request_hash, reverses_posting_id,
                          created_at)
    VALUES (p_kind, p_trade_no, p_key, p_hash, p_reverses_posting, v_now)
    RETURNING id INTO v_posting;
    -- leg order is id order
    INSERT INTO entries (posting_id, account_id, type, amount, balance_after, trade_no,
                         trade_time, recorded_at, operator_id, category_id, subject_id,
                         counterparty, description, remark, source, external_id,
                         reverses_entry_id, platform_balance)
    VALUES (v_posting, a1.id, p_type1, p_delta1, b1, p_trade_no, v_time, v_now, p_operator,
            p_category1, p_subject1, cp1, p_description1, coalesce(p_remark, ''), p_source,
            p_external_id, p_reverses1, p_platform_balance1)
    RETURNING id INTO e1;
    IF two THEN
        INSERT INTO entries (posting_id, account_id, type, amount, balance_after, trade_no,
                             trade_time, recorded_at, operator_id, category_id, subject_id,
                             counterparty, description, remark, source, external_id,
                             reverses_entry_id, platform_balance)
        VALUES (v_posting, a2.id, p_type2, p_delta2, b2, p_trade_no, v_time, v_now, p_operator,
                p_category2, p_subject2, cp2, p_description2, coalesce(p_remark, ''), p_source,
                p_external_id, p_reverses2, p_platform_balance2)
        RETURNING id INTO e2;
    END IF;

    replayed := false;
    posting_id := v_posting;
    recorded_at := v_now;
    trade_time := v_time;
    currency := a1.currency;
    entry1 := e1; account1 := a1.id; number1 := a1.number; name1 := a1.name;
    shop1 := a1.shop_code; after1 := b1; counterparty1 := cp1;
    entry2 := e2; account2 := a2.id; number2 := a2.number; name2 := a2.name;
    shop2 := a2.shop_code; after2 := b2; counterparty2 := cp2;
    RETURN NEXT;
END;
$$;
