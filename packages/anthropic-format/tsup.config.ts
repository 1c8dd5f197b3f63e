export { default } from "../../tools/tsup.shared";
