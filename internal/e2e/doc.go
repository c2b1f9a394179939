// Package e2e holds end-to-end tests of the foundation slice: the HTTP API, the asynq worker,
// PostgreSQL with PostGIS, the S3 gateway and GDAL, all real, in one process.
package e2e
