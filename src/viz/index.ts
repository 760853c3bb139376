/** Attention and training views: SVG charts, self-contained HTML pages, PNG screenshots. */
export { escapeXml, lineChart, heatmap, headView, headColor, attentionFill, type Series, type LineChartOptions, type HeatmapOptions, type HeadViewOptions } from './svg.js';
export { bertAttentionMaps, translationAttentionMaps, averageHeads, type LayerHeadMaps, type BertAttentionMaps, type TranslationAttentionMaps } from './attention.js';
export { readTrainingLog, trainingCurves, type LogEntry } from './curves.js';
export { vizHtml, type VizPage } from './page.js';
export { vizFolder, type VizFolderOptions, type VizFolderResult } from './folder.js';
export { screenshotHtml, type ScreenshotOptions } from './png.js';
