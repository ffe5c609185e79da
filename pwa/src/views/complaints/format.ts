// Display helpers for complaints.
import type { ComplaintStatus } from './types'

const DEPARTMENTS: Record<string, [string, string]> = {
  health: ['市卫健委', 'Health Commission'],
  market: ['市市场监管局', 'Market Regulation'],
  police: ['市公安局', 'Public Security'],
  fire: ['市消防救援支队', 'Fire and Rescue'],
  ndrc: ['市发改委', 'Development and Reform'],
  hrss: ['市人社局', 'Human Resources and Social Security'],
  education: ['市教育局', 'Education'],
  trade_union: ['市总工会', 'Federation of Trade Unions'],
  civil_affairs: ['市民政局', 'Civil Affairs'],
  staffing: ['市委编办', 'Staffing Office'],
}

export function departmentName(code: string, locale = 'zh-CN'): string {
  const en = locale.startsWith('en')
  if (code.startsWith('gov_')) return en ? 'Local government' : '属地区县政府'
  const names = DEPARTMENTS[code]
  return names ? names[en ? 1 : 0] : code
}

export function departmentNames(codes: string[], locale = 'zh-CN'): string {
  return [...new Set(codes.map((c) => departmentName(c, locale)))].join('、')
}

/** Vant tag type for a status. */
export function statusType(status: ComplaintStatus | string): 'primary' | 'success' | 'warning' | 'danger' | 'default' {
  switch (status) {
    case 'received':
      return 'warning'
    case 'accepted':
    case 'investigating':
      return 'primary'
    case 'resolved':
      return 'success'
    case 'rejected':
      return 'danger'
    default:
      return 'default'
  }
}

/** Copy text to the clipboard; false when the browser refuses. */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text)
      return true
    }
  } catch {
    /* fall back below */
  }
  try {
    const area = document.createElement('textarea')
    area.value = text
    area.setAttribute('readonly', '')
    area.style.position = 'fixed'
    area.style.opacity = '0'
    document.body.appendChild(area)
    area.select()
    const ok = document.execCommand('copy')
    document.body.removeChild(area)
    return ok
  } catch {
    return false
  }
}
