/**
 * Partial updates: a patch object -> "col = @key" assignments and their bound values, for the
 * fields a table maps. Booleans become 0/1, JSON columns are stringified, undefined is skipped.
 */
export interface Column {
  name: string;
  json?: boolean;
}

export function setClause(patch: Record<string, unknown>, columns: Record<string, string | Column>): { sets: string[]; args: Record<string, unknown> } {
  const sets: string[] = [];
  const args: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch)) {
    const c = columns[key];
    if (c === undefined || value === undefined) continue;
    const col = typeof c === 'string' ? { name: c } : c;
    sets.push(`${col.name} = @p_${key}`);
    args[`p_${key}`] = typeof value === 'boolean' ? (value ? 1 : 0) : col.json && value !== null ? JSON.stringify(value) : value;
  }
  return { sets, args };
}
