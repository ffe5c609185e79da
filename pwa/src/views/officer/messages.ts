export default {
  'zh-CN': {
    officer: {
      title: '投诉处理', detail: '投诉详情', empty: '没有符合条件的投诉',
      limits: '时限按工作日（周一至周五）计算：受理与办结时限自提交之日起算。',
      urgent: '紧急', filed: '提交于 {at}', photosN: '照片 {n} 张', photoN: '照片 {n}',
      overdue: { ack: '受理超时', resolve: '办结超时' },
      due: { ack: '应于 {at} 前受理', resolve: '应于 {at} 前办结', left: '剩 {n} 个工作日', late: '已超 {n} 个工作日' },
      filter: {
        open: '办理中', all: '全部状态', allCategories: '全部类别', allUnits: '全部县区',
        overdue: '仅看超时', urgent: '仅看紧急',
      },
      status: {
        received: '已受理登记', accepted: '已受理', investigating: '调查处理中', resolved: '已办结',
        rejected: '不予受理', duplicate: '重复投诉', referred: '已转办',
      },
      source: { app: '来自本平台', open311: '来自 Open311 接口' },
      f: {
        target: '投诉对象', address: '地址', position: '位置（WGS-84）', unit: '县区', departments: '承办部门',
        filed: '提交时间', ackDue: '受理时限', resolveDue: '办结时限', workingDays: '{n} 个工作日',
        doneAt: '已于 {at} 受理', closedAt: '已于 {at} 办结', reporter: '投诉人', anonymous: '匿名（凭查询码跟进）',
        contactName: '联系人', contactPhone: '联系电话', duplicateOf: '重复于', mergedHere: '已合并',
      },
      changeStatus: '变更状态', addNote: '添加说明', merge: '合并为重复',
      mergeInto: '将本投诉标记为 {ref} 的重复投诉并结案。', newStatus: '新状态',
      publicNote: '对外说明', publicHint: '投诉人可见', publicMissing: '请填写对外说明',
      internalNote: '内部备注', internalHint: '仅办理人员可见（选填）', noteMissing: '请至少填写一项说明',
      similar: '疑似重复投诉', noSimilar: '没有疑似重复的投诉', sameInstitution: '同一机构',
      history: '办理记录', system: '系统', public: '对外', internal: '内部', saved: '已保存',
    },
  },
  en: {
    officer: {
      title: 'Complaints', detail: 'Complaint', empty: 'No complaints match',
      limits: 'Limits are in working days (Mon-Fri), counted from filing.',
      urgent: 'Urgent', filed: 'Filed {at}', photosN: '{n} photos', photoN: 'Photo {n}',
      overdue: { ack: 'Acknowledge overdue', resolve: 'Resolve overdue' },
      due: { ack: 'Acknowledge by {at}', resolve: 'Resolve by {at}', left: '{n} working days left', late: '{n} working days late' },
      filter: {
        open: 'Open', all: 'All statuses', allCategories: 'All categories', allUnits: 'All units',
        overdue: 'Overdue only', urgent: 'Urgent only',
      },
      status: {
        received: 'Received', accepted: 'Accepted', investigating: 'Investigating', resolved: 'Resolved',
        rejected: 'Rejected', duplicate: 'Duplicate', referred: 'Referred',
      },
      source: { app: 'Filed in the app', open311: 'Filed through Open311' },
      f: {
        target: 'About', address: 'Address', position: 'Position (WGS-84)', unit: 'Unit', departments: 'Departments',
        filed: 'Filed', ackDue: 'Acknowledge by', resolveDue: 'Resolve by', workingDays: '{n} working days',
        doneAt: 'Acknowledged {at}', closedAt: 'Closed {at}', reporter: 'Reporter', anonymous: 'Anonymous (tracking code only)',
        contactName: 'Contact', contactPhone: 'Phone', duplicateOf: 'Duplicate of', mergedHere: 'Merged here',
      },
      changeStatus: 'Change status', addNote: 'Add a note', merge: 'Merge as duplicate',
      mergeInto: 'Mark this complaint a duplicate of {ref} and close it.', newStatus: 'New status',
      publicNote: 'Public note', publicHint: 'The reporter sees it', publicMissing: 'Please write a public note',
      internalNote: 'Internal note', internalHint: 'Officers only (optional)', noteMissing: 'Write at least one note',
      similar: 'Possible duplicates', noSimilar: 'No possible duplicates', sameInstitution: 'Same institution',
      history: 'History', system: 'System', public: 'Public', internal: 'Internal', saved: 'Saved',
    },
  },
}
