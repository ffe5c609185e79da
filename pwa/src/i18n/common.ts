export default {
  'zh-CN': {
    app: { name: '大庆托育', fullName: '大庆市婴幼儿照护服务平台' },
    tab: { care: '找托育', rooms: '母婴室', notices: '通知', complaints: '投诉', me: '我的' },
    common: {
      loading: '加载中…', retry: '重试', save: '保存', cancel: '取消', submit: '提交', confirm: '确定',
      back: '返回', more: '更多', empty: '暂无内容', offline: '当前离线，显示的是上次保存的内容',
      offlineBanner: '网络已断开，部分功能暂不可用', savedAt: '保存于 {time}', signInFirst: '请先登录',
      signIn: '登录', live: { open: '实时更新已连接', waiting: '正在重新连接…', connecting: '正在连接…' },
      language: '语言 / Language', notFound: '页面不存在', home: '回到首页',
      textSize: { title: '字体大小', hint: '默认跟随手机的字体大小', normal: '标准', large: '大', xlarge: '特大' },
      errorCode: '错误代码：{code}', error: '出错了，请稍后再试',
    },
  },
  en: {
    app: { name: 'Daqing Childcare', fullName: 'Daqing childcare platform' },
    tab: { care: 'Find care', rooms: 'Nursing rooms', notices: 'Notices', complaints: 'Complaints', me: 'Me' },
    common: {
      loading: 'Loading…', retry: 'Retry', save: 'Save', cancel: 'Cancel', submit: 'Submit', confirm: 'OK',
      back: 'Back', more: 'More', empty: 'Nothing here yet', offline: 'Offline: showing what was saved last',
      offlineBanner: 'You are offline; some features are unavailable', savedAt: 'Saved {time}',
      signInFirst: 'Please sign in first', signIn: 'Sign in',
      live: { open: 'Live updates on', waiting: 'Reconnecting…', connecting: 'Connecting…' },
      language: 'Language / 语言', notFound: 'Page not found', home: 'Home',
      textSize: { title: 'Text size', hint: 'Follows the phone’s text size by default', normal: 'Standard', large: 'Large', xlarge: 'Extra large' },
      errorCode: 'Code: {code}', error: 'Something went wrong, please try again later',
    },
  },
}
