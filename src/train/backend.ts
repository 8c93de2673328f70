/** One-time setup of TensorFlow.js on the single-threaded WebAssembly backend. */
import * as tf from "@tensorflow/tfjs";
import {setThreadsCount} from "@tensorflow/tfjs-backend-wasm";

let ready: Promise<typeof tf> | undefined;

/**
 * Select the wasm backend with one thread (training must use one core only) and return the tf
 * namespace. Safe to call many times.
 */
export function initTf(): Promise<typeof tf> {
    ready ??= (async () => {
        setThreadsCount(1);
        if (!(await tf.setBackend("wasm"))) throw new Error("tfjs: the wasm backend failed to initialize");
        await tf.ready();
        return tf;
    })();
    return ready;
}
