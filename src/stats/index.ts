/** Statistics: intervals and paired tests, each result naming its method (see ./intervals.ts). */
export {type BootstrapOptions, type Interval, type McNemarResult, bootstrapInterval, bootstrapMean, mcnemarExact, normalQuantile, pairedBootstrap, wilsonInterval} from "./intervals.ts";
