// The national immunisation schedule's doses for ages 0-3 (国家免疫规划疫苗儿童免疫程序, 2021 edition),
// as backend/childhealth/schedule.py holds them: vaccine code, Chinese name, number of doses. The
// vaccination check picks missing doses from this list; the server validates them (422 dose_unknown).
export const VACCINES: ReadonlyArray<{ code: string; name: string; doses: number }> = [
  { code: 'HepB', name: '乙肝疫苗', doses: 3 },
  { code: 'BCG', name: '卡介苗', doses: 1 },
  { code: 'IPV', name: '脊灰灭活疫苗', doses: 2 },
  { code: 'bOPV', name: '脊灰减毒活疫苗', doses: 1 },
  { code: 'DTaP', name: '百白破疫苗', doses: 4 },
  { code: 'MMR', name: '麻腮风疫苗', doses: 2 },
  { code: 'JE-L', name: '乙脑减毒活疫苗', doses: 2 },
  { code: 'MPSV-A', name: 'A群流脑多糖疫苗', doses: 2 },
  { code: 'HepA-L', name: '甲肝减毒活疫苗', doses: 1 },
]

/** Every dose as a key "CODE:n" (the checkbox names) with its label. */
export const DOSES = VACCINES.flatMap((v) =>
  Array.from({ length: v.doses }, (_, i) => ({ key: `${v.code}:${i + 1}`, vaccine: v.code, dose: i + 1, name: v.name })),
)

/** The lines of a textarea, trimmed, empty ones dropped. */
export function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter(Boolean)
}

/** "wfa_low" → ["wfa", "low"]. */
export function splitAlert(code: string): [string, string] {
  const i = code.lastIndexOf('_')
  return [code.slice(0, i), code.slice(i + 1)]
}
