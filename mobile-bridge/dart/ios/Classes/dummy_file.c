// This is an empty file to force CocoaPods to create a framework.
