/** The code-lab policy's prompt (BOS is added as a token, not as text): the question and a newline. */
export function codePolicyPrompt(question: string): string {
    return `${question}\n`;
}
