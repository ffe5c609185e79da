export default {
  'zh-CN': {
    stats: {
      title: '统计监测', open: '统计监测（对照规划目标）',
      from: '起始月份', to: '结束月份', pick: '选择月份', city: '全市', allUnits: '全市及各县区',
      download: '下载 CSV', asOf: '截至 {month} 月末',
      problem: { order: '起始月份不能晚于结束月份', tooLong: '一次最多查询 36 个月' },
      card: {
        placesPer1000: '每千人口托位数', target: '目标 {n}', met: '已达标', notMet: '未达标',
        demonstration: '示范性机构', demoUnits: '{have}/{of} 个县区已有', demoUnit: '{have} 家（目标至少 {of} 家）',
        filing: '备案率', filed: '{filed}/{n} 家已备案', places: '托位数', institutions: '{n} 家机构',
        occupancy: '全日托/半日托托位使用率（当前）', inclusive: '普惠托位占比', families: '育儿指导覆盖家庭（当月）',
        health: '在托婴幼儿健康管理率', guidance: '科学育儿指导率', targetPct: '目标 ≥{n}%',
        ofChildren: '{n}/{of} 名3岁以下在托婴幼儿', ofFamilies: '{n}/{of} 户在托婴幼儿家庭',
      },
      chart: {
        byUnit: '各县区每千人口托位数（末月）', trend: '月度趋势', complaints: '投诉举报（按类别）',
        placesPer1000: '每千人口托位数', filingRate: '备案率', inclusiveShare: '普惠托位占比', slotUse: '计时托使用率',
        perThousand: '托位/千人', percent: '%', target: '目标',
      },
      notes: '说明',
    },
  },
  en: {
    stats: {
      title: 'Statistics', open: 'Statistics against the plan',
      from: 'From', to: 'To', pick: 'Pick a month', city: 'Daqing (city)', allUnits: 'City and all units',
      download: 'Download CSV', asOf: 'As of the end of {month}',
      problem: { order: 'The first month must not be after the last', tooLong: 'At most 36 months at a time' },
      card: {
        placesPer1000: 'Places per 1,000 residents', target: 'Target {n}', met: 'Met', notMet: 'Not met',
        demonstration: 'Demonstration institutions', demoUnits: '{have} of {of} units have one', demoUnit: '{have} (target: at least {of})',
        filing: 'Filing rate', filed: '{filed} of {n} filed', places: 'Places', institutions: '{n} institutions',
        occupancy: 'Full/half-day occupancy (now)', inclusive: 'Inclusive (普惠) share', families: 'Families reached by guidance (month)',
        health: 'Health-management rate (under 3 in care)', guidance: 'Parenting-guidance rate', targetPct: 'Target ≥{n}%',
        ofChildren: '{n} of {of} children under 3 in care', ofFamilies: '{n} of {of} families',
      },
      chart: {
        byUnit: 'Places per 1,000 by unit (last month)', trend: 'Monthly trend', complaints: 'Complaints by category',
        placesPer1000: 'Places per 1,000', filingRate: 'Filing rate', inclusiveShare: 'Inclusive share', slotUse: 'Hourly slot use',
        perThousand: 'per 1,000', percent: '%', target: 'Target',
      },
      notes: 'Notes',
    },
  },
}
