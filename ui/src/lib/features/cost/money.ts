// Dollar amounts as every cost figure shows them. The figures themselves are the engine's;
// this only decides how many digits a person needs to read them.

/**
 * US dollars: $1 and more with cents ("$13.19", "$1,234.50"); less than $1 with up to four
 * decimals, so an hourly rate still says something ("$0.0173", "$0.50"); a positive amount
 * too small for that is "under $0.0001" rather than a misleading "$0.00".
 */
export function formatMoney(amount: number | null): string {
  if (amount === null || !Number.isFinite(amount)) return '—';
  const sign = amount < 0 ? '-' : '';
  const size = Math.abs(amount);
  if (size >= 1) {
    return `${sign}$${size.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  }
  if (amount > 0 && amount < 0.00005) return 'under $0.0001';
  const digits = size.toFixed(4).replace(/0{1,2}$/, '');
  return `${sign}$${digits}`;
}
