/**
 * The rewrite as a TypeScript AST transformation, for the ts-patch program transformer. It
 * produces the same code as the text rewrite ({@link ./rewrite.ts}): the nested-spin option
 * injection, the hoisted `registerRemote(...)` constants after the leading imports, and
 * `invokeRemote(...)` at each call site. Original nodes are reused, so TypeScript's own
 * transformers (type stripping, module format) and source maps keep working on them.
 *
 * @module
 */
import ts from "typescript";
import type { AnalysisResult, RemoteSite, SpinSite } from "./analyze.js";
import { generatedNames } from "./rewrite.js";
import { unwrap } from "./ts-frontend.js";

const spanKey = (start: number, end: number): string => `${start}:${end}`;

/**
 * Rewrites `sf` according to `result` (which must come from the model of this very `SourceFile`).
 * Returns `sf` itself when there is nothing to change.
 */
export function rewriteSourceFile(
  sf: ts.SourceFile,
  result: AnalysisResult,
  context: ts.TransformationContext,
  runtimeModule: string,
): ts.SourceFile {
  if (result.remotes.length === 0 && result.spins.length === 0) return sf;
  const f = context.factory;
  const names = generatedNames(result);
  const remotes = new Map<string, RemoteSite>();
  for (const r of result.remotes) remotes.set(spanKey(r.call.start, r.call.end), r);
  const spins = new Map<string, SpinSite>();
  for (const s of result.spins) spins.set(spanKey(s.call.start, s.call.end), s);
  const hoisted: ts.Statement[] = [];
  const runtime = (member: string): ts.Expression =>
    f.createPropertyAccessExpression(f.createIdentifier(names.runtime), member);

  const rewriteRemote = (node: ts.CallExpression, site: RemoteSite): ts.Expression => {
    const [scopeArg, declaredArg, bodyArg] = node.arguments;
    const body = ts.visitNode(unwrap(bodyArg!), visitor, ts.isExpression)!;
    const scope = ts.visitNode(scopeArg!, visitor, ts.isExpression)!;
    const declared = ts.visitNode(unwrap(declaredArg!), visitor, ts.isExpression)!;
    const def = names.defs.get(site)!;
    const factoryFn = f.createArrowFunction(
      undefined,
      undefined,
      site.params.map((p) => f.createParameterDeclaration(undefined, undefined, p)),
      undefined,
      f.createToken(ts.SyntaxKind.EqualsGreaterThanToken),
      body,
    );
    const register = f.createCallExpression(runtime("registerRemote"), undefined, [
      f.createStringLiteral(site.id),
      f.createArrayLiteralExpression(site.params.map((p) => f.createStringLiteral(p))),
      f.createStringLiteral(site.hash),
      factoryFn,
    ]);
    hoisted.push(
      f.createVariableStatement(
        undefined,
        f.createVariableDeclarationList(
          [f.createVariableDeclaration(def, undefined, undefined, register)],
          ts.NodeFlags.Const,
        ),
      ),
    );
    return f.createCallExpression(runtime("invokeRemote"), undefined, [
      f.createIdentifier(def),
      scope,
      declared,
    ]);
  };

  const injectSpin = (node: ts.CallExpression, site: SpinSite): ts.Expression => {
    const visited = ts.visitEachChild(node, visitor, context);
    const props: ts.ObjectLiteralElementLike[] = [
      f.createPropertyAssignment(
        "deps",
        f.createArrayLiteralExpression(
          site.deps.map((d) => (d === "this" ? f.createThis() : f.createIdentifier(d))),
        ),
      ),
    ];
    if (site.key !== undefined)
      props.push(f.createPropertyAssignment("key", f.createStringLiteral(site.key)));
    const [body, opts] = visited.arguments;
    let options: ts.Expression;
    if (opts === undefined) options = f.createObjectLiteralExpression(props);
    else {
      const literal = unwrap(opts);
      options = ts.isObjectLiteralExpression(literal)
        ? f.updateObjectLiteralExpression(literal, [...literal.properties, ...props])
        : opts;
    }
    return f.updateCallExpression(visited, visited.expression, visited.typeArguments, [body!, options]);
  };

  const visitor = (node: ts.Node): ts.Node => {
    if (ts.isCallExpression(node) && node.pos >= 0) {
      const key = spanKey(node.getStart(sf), node.end);
      const remote = remotes.get(key);
      if (remote) return rewriteRemote(node, remote);
      const spin = spins.get(key);
      if (spin) return injectSpin(node, spin);
    }
    return ts.visitEachChild(node, visitor, context);
  };

  const statements = sf.statements.map((s) => ts.visitNode(s, visitor, ts.isStatement)!);
  if (hoisted.length === 0) return f.updateSourceFile(sf, statements);
  let k = 0;
  while (k < sf.statements.length && sf.statements[k]!.end <= result.model.insertionPoint) k++;
  const runtimeImport = f.createImportDeclaration(
    undefined,
    f.createImportClause(false, undefined, f.createNamespaceImport(f.createIdentifier(names.runtime))),
    f.createStringLiteral(runtimeModule),
  );
  return f.updateSourceFile(sf, [
    ...statements.slice(0, k),
    runtimeImport,
    ...hoisted,
    ...statements.slice(k),
  ]);
}
