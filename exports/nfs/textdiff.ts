/** A line diff of two rendered files for dry runs (`-` old line, `+` new line). Pure. */

export interface TextDiff {
  /** Unified-style text: `@@ -oldLine +newLine @@` hunk headers, then `-`/`+` lines. Empty = same. */
  text: string;
  added: number;
  removed: number;
}

/** Longest-common-subsequence diff after trimming the common head and tail (the tables are
 * sorted, so real changes are small even when the files are large). */
export function diffText(oldText: string, newText: string): TextDiff {
  const a = oldText === '' ? [] : oldText.replace(/\n$/, '').split('\n');
  const b = newText === '' ? [] : newText.replace(/\n$/, '').split('\n');
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const x = a.slice(head, a.length - tail);
  const y = b.slice(head, b.length - tail);
  const n = x.length;
  const m = y.length;
  // lcs[i][j] = LCS length of x[i..] and y[j..], row-major in one array.
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] = x[i] === y[j] ? lcs[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!);
    }
  }
  const out: string[] = [];
  let added = 0;
  let removed = 0;
  let i = 0;
  let j = 0;
  let inHunk = false;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      i++;
      j++;
      inHunk = false;
      continue;
    }
    if (!inHunk) {
      out.push(`@@ -${head + i + 1} +${head + j + 1} @@`);
      inHunk = true;
    }
    if (i < n && (j === m || lcs[(i + 1) * (m + 1) + j]! >= lcs[i * (m + 1) + j + 1]!)) {
      out.push(`-${x[i++]}`);
      removed++;
    } else {
      out.push(`+${y[j++]}`);
      added++;
    }
  }
  return { text: out.length ? `${out.join('\n')}\n` : '', added, removed };
}
