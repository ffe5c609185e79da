// Words of the officers' health screens (cluster alerts and the reason-based access). Merged into the
// `childhealth` key by ../messages.ts; Chinese only (the app falls back to it).
export default {
  clusters: {
    title: '聚集性健康提醒',
    open: '聚集性健康提醒',
    intro: '同一班级3天内有3名及以上幼儿出现相同症状时产生提醒。此处只显示人数，不含幼儿信息。',
    empty: '暂无聚集性健康提醒',
    children: '{n} 名幼儿',
    window: '{from} 至 {to}',
    raised: '提醒时间 {at}',
    view: '查看明细',
    accessTitle: '查看聚集事件明细',
    reason: '查看理由',
    reasonPlaceholder: '如：核实聚集性发热情况，指导机构处置',
    reasonHint: '查看幼儿个人健康信息需说明理由（4至200字），理由和查看记录将写入审计日志。',
    reasonShort: '请填写至少4个字的理由',
    submit: '说明理由并查看',
    checks: '相关幼儿晨午检记录',
    noChecks: '没有相关记录',
    notFound: '找不到这条提醒',
    audited: '本次查看已记入审计日志',
  },
}
