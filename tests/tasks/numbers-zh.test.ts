/** The number -> Traditional Chinese writer, rule by rule (values checked by hand), and its task's splits. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { builtinTask, numberToChinese, numbersTask, numbersZhTask } from '../../src/tasks/builtin/index.js';

describe('numberToChinese', () => {
  const check = (cases: Array<[string, string]>): void => {
    for (const [n, zh] of cases) assert.equal(numberToChinese(n), zh, n);
  };
  test('digits and places; 0 is 零', () => {
    check([['0', '零'], ['7', '七'], ['42', '四十二'], ['305', '三百零五'], ['4000', '四千'], ['12345', '一萬二千三百四十五'],
      ['999999999', '九億九千九百九十九萬九千九百九十九']]);
  });
  test('a leading 一十 is 十, elsewhere 一十', () => {
    check([['10', '十'], ['15', '十五'], ['110', '一百一十'], ['1010', '一千零一十'], ['150000', '十五萬'], ['100000', '十萬'],
      ['100010', '十萬零一十'], ['10100000', '一千零一十萬'], ['110000000', '一億一千萬']]);
  });
  test('one 零 for a run of missing places inside a group; none at the end', () => {
    check([['1001', '一千零一'], ['1100', '一千一百'], ['1000', '一千'], ['101', '一百零一'], ['100', '一百'], ['20', '二十']]);
  });
  test('one 零 across a group boundary; the group word absorbs a group\'s trailing zeros', () => {
    check([['10001', '一萬零一'], ['20000300', '二千萬零三百'], ['100100', '十萬零一百'], ['101000', '十萬一千'],
      ['1010000', '一百零一萬'], ['100000001', '一億零一'], ['100001000', '一億零一千'], ['100010000', '一億零一萬'],
      ['305000070', '三億零五百萬零七十'], ['12340000', '一千二百三十四萬']]);
  });
  test('whole groups of zeros: no group word, no 零 at the end', () => {
    check([['100000000', '一億'], ['10000', '一萬'], ['200000000', '二億'], ['300000500', '三億零五百']]);
  });
  test('leading zeros are ignored; more than 9 digits or non-digits fail', () => {
    check([['007', '七'], ['000', '零']]);
    assert.throws(() => numberToChinese('1000000000'), /at most 9 digits, got 10/);
    assert.throws(() => numberToChinese('12,345'), /expected digits/);
  });
});

describe('numbers-zh task', () => {
  test('the same numbers as the English task, Chinese targets, character tokenizers', () => {
    const opts = { seed: 4, train: 400, valid: 40, test: 60, minDigits: 2, maxDigits: 9, commas: true };
    const zh = numbersZhTask(opts);
    const en = numbersTask(opts);
    assert.deepEqual(zh.test.map((e) => e.source), en.test.map((e) => e.source));
    for (const e of zh.test) assert.equal(e.target, numberToChinese(e.source.replaceAll(',', '')));
    assert.deepEqual(builtinTask('numbers-zh', opts), zh);
    assert.equal(zh.targetTokenizer, 'char');
    assert.ok(zh.train.every((e) => e.length >= 2 && e.length <= 9));
    assert.equal(numbersZhTask({ train: 300, valid: 10, test: 10 }).train.reduce((m, e) => Math.max(m, e.length), 0), 9, 'default maxDigits 9');
    assert.throws(() => numbersZhTask({ maxDigits: 10 }), /numbers-zh: need 1 <= minDigits <= maxDigits <= 9/);
  });
});
