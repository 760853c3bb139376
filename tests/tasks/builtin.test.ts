/** Built-in tasks: correct targets, disjoint deterministic splits, lengths as documented. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DATE_FORMATS, builtinTask, datesTask, isoDate, numberToWords, numbersTask, reverseTask, withCommas } from '../../src/tasks/builtin/index.js';

describe('numbers', () => {
  test('English words', () => {
    const cases: Array<[string, string]> = [
      ['0', 'zero'], ['7', 'seven'], ['13', 'thirteen'], ['40', 'forty'], ['71', 'seventy one'], ['105', 'one hundred five'],
      ['4071', 'four thousand seventy one'], ['12000', 'twelve thousand'], ['1000000', 'one million'],
      ['1000001', 'one million one'], ['110011', 'one hundred ten thousand eleven'],
      ['999999999999', 'nine hundred ninety nine billion nine hundred ninety nine million nine hundred ninety nine thousand nine hundred ninety nine'],
      ['2000000000019', 'two trillion nineteen'], ['007', 'seven'],
    ];
    for (const [n, w] of cases) assert.equal(numberToWords(n), w, n);
  });
  test('splits: sizes, disjoint, deterministic, lengths = digits, up to maxDigits', () => {
    const a = numbersTask({ seed: 5, train: 3000, valid: 200, test: 300 });
    const b = numbersTask({ seed: 5, train: 3000, valid: 200, test: 300 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(numbersTask({ seed: 6, train: 3000, valid: 200, test: 300 }).test, a.test);
    assert.deepEqual([a.train.length, a.valid.length, a.test.length], [3000, 200, 300]);
    const sets = [a.train, a.valid, a.test].map((s) => new Set(s.map((e) => e.source)));
    assert.equal(sets[0]!.size + sets[1]!.size + sets[2]!.size, new Set([...sets[0]!, ...sets[1]!, ...sets[2]!]).size, 'disjoint');
    for (const e of a.test) {
      assert.equal(e.length, e.source.length);
      assert.equal(e.target, numberToWords(e.source));
    }
    assert.equal(Math.max(...a.train.map((e) => e.length)), 12);
    assert.equal(Math.min(...a.train.map((e) => e.length)), 1);
    assert.equal(a.sourceTokenizer, 'char');
  });
  test('commas: the same numbers, sources with thousands separators, lengths still in digits', () => {
    assert.deepEqual(['7', '71', '105', '4071', '12000', '110011', '1000001', '999999999999'].map(withCommas),
      ['7', '71', '105', '4,071', '12,000', '110,011', '1,000,001', '999,999,999,999']);
    const plain = numbersTask({ seed: 3, train: 500, valid: 50, test: 100 });
    const grouped = numbersTask({ seed: 3, train: 500, valid: 50, test: 100, commas: true });
    for (const split of ['train', 'valid', 'test'] as const) {
      assert.deepEqual(grouped[split].map((e) => e.source.replaceAll(',', '')), plain[split].map((e) => e.source));
      assert.deepEqual(grouped[split].map((e) => [e.target, e.length]), plain[split].map((e) => [e.target, e.length]));
    }
    assert.ok(grouped.test.some((e) => e.source.includes(',')));
    assert.match(grouped.description, /thousands separators/);
  });
  test('digit range is an option; impossible sizes fail clearly', () => {
    const t = numbersTask({ minDigits: 15, maxDigits: 20, train: 10, valid: 5, test: 5 });
    assert.ok(t.train.every((e) => e.length >= 15 && e.length <= 20));
    assert.throws(() => numbersTask({ minDigits: 1, maxDigits: 1, train: 5, valid: 0, test: 5 }), /could only draw 1 distinct test examples of 5/);
  });
  test('held out: at most 10% of a length\'s numbers; training keeps short numbers (repeated), never a held-out one', () => {
    const t = numbersTask({ seed: 2, train: 12000, valid: 500, test: 1000 });
    const heldOut = [...t.valid, ...t.test];
    const count = (len: number): number => heldOut.filter((e) => e.length === len).length;
    assert.ok(count(1) <= 1 && count(2) <= 9 && count(3) <= 90, `${count(1)} ${count(2)} ${count(3)}`);
    const held = new Set(heldOut.map((e) => e.source));
    assert.ok(t.train.every((e) => !held.has(e.source)));
    const oneDigit = t.train.filter((e) => e.length === 1).length;
    assert.ok(Math.abs(oneDigit / 12000 - 1 / 12) < 0.02, `1-digit share ${oneDigit / 12000}`);
  });
});

describe('dates', () => {
  test('every format of 3 May 1998 maps to 1998-05-03, weekday right', () => {
    const x = { y: 1998, m: 5, d: 3, wd: 0 }; // 3 May 1998 was a Sunday
    assert.equal(new Date(Date.UTC(1998, 4, 3)).getUTCDay(), 0);
    const written = DATE_FORMATS.map((f) => f.write(x));
    for (const s of ['3 May 1998', 'May 3rd, 98', '03/05/1998', 'Sunday, May 3 1998', '1998年5月3日']) assert.ok(written.includes(s), s);
    assert.equal(isoDate(x), '1998-05-03');
    assert.equal(new Set(written).size, DATE_FORMATS.length, 'formats differ');
  });
  test('splits are disjoint by date, deterministic, ISO targets consistent with sources', () => {
    const t = datesTask({ seed: 1, train: 2000, valid: 200, test: 200 });
    assert.deepEqual(t, datesTask({ seed: 1, train: 2000, valid: 200, test: 200 }));
    const trainDates = new Set(t.train.map((e) => e.target));
    assert.ok(t.test.every((e) => !trainDates.has(e.target)) && t.valid.every((e) => !trainDates.has(e.target)));
    for (const e of t.test) {
      assert.match(e.target, /^\d{4}-\d{2}-\d{2}$/);
      const [y, m, d] = e.target.split('-').map(Number) as [number, number, number];
      assert.ok(y >= 1950 && y <= 2049);
      assert.ok(e.source.includes(String(d)) || e.source.includes(String(d).padStart(2, '0')), `${e.source} has day ${d}`);
      assert.equal(e.length, Array.from(e.source).length);
      void m;
    }
    // years outside 1950-2049 never use two-digit formats
    const old = datesTask({ minYear: 1800, maxYear: 1850, train: 300, valid: 0, test: 0 });
    assert.ok(old.train.every((e) => e.source.includes(e.target.slice(0, 4))), 'four-digit years only');
  });
});

describe('reverse and builtinTask', () => {
  test('reverse', () => {
    const t = reverseTask({ seed: 2, train: 500, valid: 50, test: 50, maxLength: 8 });
    for (const e of t.train) {
      assert.equal(e.target, e.source.split(' ').reverse().join(' '));
      assert.equal(e.length, e.source.split(' ').length);
    }
  });
  test('by name', () => {
    assert.equal(builtinTask('reverse', { train: 5, valid: 1, test: 1 }).name, 'reverse');
    assert.throws(() => builtinTask('sorting'), /unknown built-in task 'sorting'/);
  });
});
