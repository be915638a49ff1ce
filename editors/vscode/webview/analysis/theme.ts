// Helpers shared by the analysis views that draw charts: theme colours and time labels.

export function formatTime(milliseconds: number): string {
  const date = new Date(milliseconds);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString().replace('T', ' ').replace(/:00\.000Z$|\.000Z$/, '');
}

export function themeColor(variable: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(variable).trim();
  return value === '' ? fallback : value;
}
