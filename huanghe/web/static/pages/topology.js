/* pages/topology.js: being written in this session (issue #17). */
