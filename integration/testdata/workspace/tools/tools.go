// Package tools is a workspace member the app does not use.
package tools
