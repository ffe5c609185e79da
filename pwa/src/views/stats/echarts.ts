// Only the ECharts parts the dashboard uses (tree-shaken: echarts/core, not the full bundle). Imported
// by the dashboard only, which its route loads on demand, so none of this is in the initial JavaScript.
import { BarChart, LineChart } from 'echarts/charts'
import { GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from 'echarts/components'
import * as echarts from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent, CanvasRenderer])

export { echarts }
