/** Ranking metrics for step scores. */

/** ROC-AUC of scores against binary labels (ties count half); NaN when one class is missing. */
export function rocAuc(scores: readonly number[], labels: readonly number[]): number {
    const idx = scores.map((_, i) => i).sort((a, b) => scores[a] - scores[b]);
    let pos = 0;
    let neg = 0;
    for (const l of labels) l ? pos++ : neg++;
    if (pos === 0 || neg === 0) return NaN;
    // rank-sum with average ranks for ties
    let rankSumPos = 0;
    for (let i = 0; i < idx.length; ) {
        let j = i;
        while (j + 1 < idx.length && scores[idx[j + 1]] === scores[idx[i]]) j++;
        const avgRank = (i + j) / 2 + 1;
        for (let k = i; k <= j; k++) if (labels[idx[k]]) rankSumPos += avgRank;
        i = j + 1;
    }
    return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}
