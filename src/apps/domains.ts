/**
 * The built-in domains' verifiers, registered with the label stage's registry
 * (src/pipeline/label/verifiers.ts). `math` is registered there as the default; this module adds
 * the domains that live outside the pipeline. The CLI and the library entry (src/index.ts) import
 * it; a library user who imports only `stepwise/pipeline` registers domains themselves.
 * A new domain appends one `registerVerifier(...)` line here.
 */
import {registerVerifier} from "../pipeline/label/verifiers.ts";
import {labVerifier} from "../domains/lab/verifier.ts";
import {codeVerifier} from "../domains/code/verifier-definition.ts";

registerVerifier(labVerifier);
registerVerifier(codeVerifier);
import {registerCategoryScheme, CODE_SCHEME} from "../domains/categories.ts";
import {CODE_STATEMENT_SCHEME} from "../domains/code/categories.ts";
registerCategoryScheme({...CODE_SCHEME, name: "code-tokens"});
registerCategoryScheme(CODE_STATEMENT_SCHEME);
