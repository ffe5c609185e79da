export default {
  'zh-CN': {
    notifyStats: {
      link: '通知送达统计',
      title: '通知送达统计',
      intro: '按日期和渠道统计通知的送达情况（北京时间）。',
      days: '统计天数',
      smsBudget: '今日短信用量',
      smsUsed: '{used} / {budget} 条',
      empty: '这段时间没有通知记录',
      forbidden: '只有市级管理员可以查看通知送达统计',
      total: '合计 {n}',
      channels: { websocket: '应用内', push: '手机推送', sms: '短信', wechat: '微信' },
      statuses: {
        waiting: '等待确认', queued: '排队中', sending: '发送中', sent: '已发送',
        failed: '失败', acknowledged: '已查看', skipped: '无需发送',
      },
    },
  },
  en: {
    notifyStats: {
      link: 'Notification delivery',
      title: 'Notification delivery',
      intro: 'Deliveries per day and channel (Beijing time).',
      days: 'Days',
      smsBudget: 'SMS used today',
      smsUsed: '{used} / {budget}',
      empty: 'No notifications in this period',
      forbidden: 'Only city administrators can see delivery statistics',
      total: 'Total {n}',
      channels: { websocket: 'In app', push: 'Push', sms: 'SMS', wechat: 'WeChat' },
      statuses: {
        waiting: 'Waiting', queued: 'Queued', sending: 'Sending', sent: 'Sent',
        failed: 'Failed', acknowledged: 'Seen', skipped: 'Not needed',
      },
    },
  },
}
