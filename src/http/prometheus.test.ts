import { expect, test } from "bun:test";
import { Histogram, labelValue } from "./prometheus.ts";

test("a histogram's buckets are cumulative, with +Inf, sum and count", () => {
  const h = new Histogram([0.1, 1]);
  for (const v of [0.05, 0.1, 0.5, 2, 3]) h.observe(v);
  expect(h.lines("x_seconds", 'a="1"')).toEqual([
    'x_seconds_bucket{a="1",le="0.1"} 2',
    'x_seconds_bucket{a="1",le="1"} 3',
    'x_seconds_bucket{a="1",le="+Inf"} 5',
    'x_seconds_sum{a="1"} 5.65',
    'x_seconds_count{a="1"} 5',
  ]);
});

test("a histogram without labels renders without braces on sum and count", () => {
  const h = new Histogram([1]);
  h.observe(0.5);
  expect(h.lines("y")).toEqual(['y_bucket{le="1"} 1', 'y_bucket{le="+Inf"} 1', "y_sum 0.5", "y_count 1"]);
});

test("bucket bounds must increase", () => {
  expect(() => new Histogram([1, 1])).toThrow("bucket bounds must increase, got 1, 1");
});

test("label values escape backslashes, quotes and newlines", () => {
  expect(labelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
});
