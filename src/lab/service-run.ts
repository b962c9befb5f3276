/** Lab-directory folder of each service node's private run directory (bound over its runDir): pid files and runtime sockets stay the node's own. */
export const SERVICE_RUN_DIR = 'service-run';
