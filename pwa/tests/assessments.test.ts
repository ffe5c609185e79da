import { describe, expect, it } from 'vitest'
import {
  formProblems, gradeFor, isOverdue, points, runningTotal, splitAssessors, tenths, toBody,
  type AssessmentForm, type Standard,
} from '@/views/assessments/logic'
import { defaultFilters, filtersFromQuery, filtersToQuery, nearbyQuery } from '@/views/care/logic'
import messages from '@/views/assessments/messages'

const STD: Standard = {
  total_points: 1000,
  dimensions: [
    { key: 'facilities', name_zh: '办托条件', name: 'Facilities', max_points: 100 },
    { key: 'staff', name_zh: '托育队伍', name: 'Staff', max_points: 120 },
    { key: 'care', name_zh: '保育照护', name: 'Care', max_points: 200 },
    { key: 'health', name_zh: '卫生保健', name: 'Health', max_points: 120 },
    { key: 'parenting', name_zh: '养育支持', name: 'Parenting', max_points: 80 },
    { key: 'safety', name_zh: '安全保障', name: 'Safety', max_points: 180 },
    { key: 'management', name_zh: '机构管理', name: 'Management', max_points: 100 },
    { key: 'cooperation', name_zh: '家园共育', name: 'Cooperation', max_points: 50 },
    { key: 'disclosure', name_zh: '信息公开', name: 'Disclosure', max_points: 50 },
  ],
  grades: [
    { grade: 'A', name_zh: '优秀', min_total: 900 },
    { grade: 'B', name_zh: '良好', min_total: 750 },
    { grade: 'C', name_zh: '合格', min_total: 600 },
    { grade: 'D', name_zh: '不合格', min_total: 0 },
  ],
}
const FULL = Object.fromEntries(STD.dimensions.map((d) => [d.key, String(d.max_points)]))

function form(over: Partial<AssessmentForm> = {}): AssessmentForm {
  return {
    institutionId: 'i1', assessedOn: '2026-11-20', assessors: '王专家、李科长', scores: { ...FULL },
    summary: '良好', findings: '', items: [{ description: '补齐记录', deadline: '2026-12-31' }], ...over,
  }
}

describe('score sheet', () => {
  it('reads scores in tenths and refuses anything else', () => {
    expect(tenths('87.5')).toBe(875)
    expect(tenths(' 12 ')).toBe(120)
    expect(tenths('0.1')).toBe(1)
    for (const bad of ['', '1.25', '-3', 'abc', '1e2', undefined, null]) expect(tenths(bad)).toBeNull()
  })

  it('adds up exactly to one decimal, counting empty fields as 0', () => {
    expect(runningTotal(FULL, STD.dimensions)).toBe(1000)
    const s = { ...FULL, care: '199.9', safety: '179.7', staff: '' }
    expect(runningTotal(s, STD.dimensions)).toBe(879.6) // no 879.6000000001
    expect(runningTotal({ facilities: '0.1', staff: '0.2' }, STD.dimensions)).toBe(0.3)
  })

  it('grades by the cut-offs, best first', () => {
    expect([1000, 900, 899.9, 750, 749.9, 600, 599.9, 0].map((t) => gradeFor(t, STD.grades))).toEqual([
      'A', 'A', 'B', 'B', 'C', 'C', 'D', 'D',
    ])
    expect(gradeFor(950, [...STD.grades].reverse())).toBe('A') // order of the bands does not matter
  })

  it('finds what the API would refuse, before sending', () => {
    const today = '2026-12-02'
    expect(formProblems(form(), STD, today, true)).toEqual({})
    const p = formProblems(
      form({
        institutionId: '',
        assessedOn: '2026-12-03',
        assessors: '',
        scores: { ...FULL, care: '201', safety: '1.25', health: '' },
        summary: ' ',
        items: [
          { description: '', deadline: '2026-12-01' },
          { description: 'x', deadline: '2026-12-03' },
        ],
      }),
      STD,
      today,
      true,
    )
    expect(p).toEqual({
      institution: 'institution', assessedOn: 'dateFuture', assessors: 'assessors',
      'score.care': 'scoreMax', 'score.safety': 'score', 'score.health': 'score', summary: 'summary',
      'item.0.description': 'itemDescription', 'item.0.deadline': 'deadlineBefore', 'item.1.deadline': 'deadlineBefore',
    })
    const past = formProblems(form({ assessedOn: '2026-10-01', items: [{ description: 'x', deadline: '2026-11-01' }] }), STD, today, false)
    expect(past).toEqual({ 'item.0.deadline': 'deadlinePast' })
    const many = formProblems(form({ assessors: Array.from({ length: 11 }, (_, n) => `专家${n}`).join('\n') }), STD, today, false)
    expect(many.assessors).toBe('assessors')
    const items = Array.from({ length: 31 }, () => ({ description: 'x', deadline: '2026-12-31' }))
    expect(formProblems(form({ items }), STD, today, false).items).toBe('tooMany')
  })

  it('builds the body with the total and grade the scores give', () => {
    const body = toBody(form({ scores: { ...FULL, care: '150.5' } }), STD)
    expect(body.total).toBe(950.5)
    expect(body.grade).toBe('A')
    expect(body.scores.care).toBe(150.5)
    expect(body.assessors).toEqual(['王专家', '李科长'])
    expect(Object.keys(body.scores)).toHaveLength(9)
  })

  it('splits assessors and marks overdue items', () => {
    expect(splitAssessors('甲\n乙，丙、 丁;;')).toEqual(['甲', '乙', '丙', '丁'])
    expect(isOverdue({ status: 'open', deadline: '2026-12-01' }, '2026-12-02')).toBe(true)
    expect(isOverdue({ status: 'open', deadline: '2026-12-02' }, '2026-12-02')).toBe(false)
    expect(isOverdue({ status: 'rectified', deadline: '2026-01-01' }, '2026-12-02')).toBe(false)
    expect(points(812.5)).toBe('812.5')
    expect(points(900)).toBe('900')
  })
})

describe('grade filter of the care search', () => {
  it('round-trips through the URL and reaches the API as min_grade', () => {
    const f = { ...defaultFilters(), grade: 'B' as const }
    expect(filtersToQuery(f)).toEqual({ grade: 'B' })
    expect(filtersFromQuery({ grade: 'B' })).toEqual(f)
    expect(filtersFromQuery({ grade: 'E' }).grade).toBeNull()
    expect(filtersFromQuery({ grade: 'b' }).grade).toBeNull()
    expect(nearbyQuery(f, { lat: 46.59, lng: 125.1 }).min_grade).toBe('B')
    expect(nearbyQuery(defaultFilters(), { lat: 46.59, lng: 125.1 }).min_grade).toBeUndefined()
  })
})

describe('messages', () => {
  it('has the same keys in Chinese and English', () => {
    const keys = (o: object, prefix = ''): string[] =>
      Object.entries(o).flatMap(([k, v]) => (typeof v === 'object' ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`]))
    expect(keys(messages.en).sort()).toEqual(keys(messages['zh-CN']).sort())
  })
})
