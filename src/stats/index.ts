/** Statistics: intervals and paired tests, each result naming its method (see ./intervals.ts). */
export {type BootstrapOptions, type FormatOptions, type Interval, type IntervalJson, type McNemarResult, bootstrapInterval, bootstrapMean, differenceSentence, formatInterval, intervalJson, mcnemarExact, normalQuantile, pairedBootstrap, wilsonInterval} from "./intervals.ts";
